package dev.meerkat.drivers.simulated;

import dev.meerkat.drivers.Sample;
import dev.meerkat.drivers.Sensor;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

final class SimulatedSensor implements Sensor {
    private final List<SimulatedDriver.Quantity> quantities;
    private final Clock clock;
    private final SplittableRandom random;

    SimulatedSensor(List<SimulatedDriver.Quantity> quantities, Clock clock, long seed) {
        this.quantities = quantities;
        this.clock = clock;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public synchronized Sample read() {
        long now = clock.millis();
        Map<String, Double> values = new LinkedHashMap<>();
        Map<String, String> units = new LinkedHashMap<>();
        for (SimulatedDriver.Quantity q : quantities) {
            double phase = 2 * Math.PI * (now % q.period().toMillis()) / q.period().toMillis();
            double v = q.base() + q.amplitude() * Math.sin(phase) + q.noise() * random.nextGaussian();
            values.put(q.name(), Math.round(v * 1000) / 1000.0);
            units.put(q.name(), q.unit());
        }
        return new Sample(values, units);
    }

    @Override
    public void close() {}
}
