package dev.meerkat.drivers.simulated;

import dev.meerkat.config.Fields;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.Driver;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.Sensor;
import dev.meerkat.drivers.bus.DriverException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A sensor with no hardware: each value is {@code base + amplitude * sin(2 pi t / period) + noise},
 * with Gaussian noise of the given standard deviation. For the sandbox, tests and benchmarks.
 *
 * <pre>{@code
 * { "driver": "simulated", "interval": "1s",
 *   "settings": { "seed": 7,
 *                 "values": { "temperature": { "base": 21.0, "amplitude": 2.0, "period": "10m",
 *                                              "noise": 0.1, "unit": "Cel" } } } }
 * }</pre>
 * Without {@code values} it reports one value, {@code value}, around 0 with noise 1.
 */
public final class SimulatedDriver implements Driver {
    private static final Pattern VALUE_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,31}");
    private static final Pattern UNIT = Pattern.compile("[!-~]{1,16}");

    /** One simulated quantity. */
    record Quantity(String name, double base, double amplitude, Duration period, double noise, String unit) {}

    @Override
    public java.util.Map<String, String> quantities(SensorConfig config) throws DriverException {
        java.util.Map<String, String> q = new java.util.LinkedHashMap<>();
        for (Quantity x : Driver.settings(config, SimulatedDriver::parse).quantities) q.put(x.name(), x.unit());
        return q;
    }

    @Override
    public String name() {
        return "simulated";
    }

    @Override
    public void checkSettings(Fields settings) {
        parse(settings);
    }

    @Override
    public Sensor open(SensorConfig config, DriverContext context) throws DriverException {
        Settings s = Driver.settings(config, SimulatedDriver::parse);
        long seed = s.seed != null ? s.seed : (context.deviceId() + "/" + config.id()).hashCode();
        return new SimulatedSensor(s.quantities, context.clock(), seed);
    }

    private record Settings(Long seed, List<Quantity> quantities) {}

    private static Settings parse(Fields f) {
        Long seed = f.has("seed") ? (long) f.integer("seed", 0, Integer.MIN_VALUE, Integer.MAX_VALUE) : null;
        List<Quantity> quantities = new ArrayList<>();
        if (f.has("values")) {
            Fields values = f.object("values");
            Map<String, Fields> each = new LinkedHashMap<>();
            for (String name : values.keys()) {
                if (!VALUE_NAME.matcher(name).matches()) {
                    values.error(name, "value names are a letter then letters, digits or '_', at most 32");
                }
                each.put(name, values.object(name));
            }
            values.done();
            if (each.isEmpty()) values.error(null, "must name at least one value");
            for (Map.Entry<String, Fields> e : each.entrySet()) {
                Fields q = e.getValue();
                quantities.add(new Quantity(e.getKey(), q.number("base", 0), q.number("amplitude", 0),
                        q.duration("period", Duration.ofMinutes(10), Duration.ofSeconds(1), Duration.ofDays(7)),
                        nonNegative(q, "noise", 1), q.string("unit", "1", UNIT, "1 to 16 printable characters")));
                q.done();
            }
        } else {
            quantities.add(new Quantity("value", 0, 0, Duration.ofMinutes(10), 1, "1"));
        }
        f.done();
        return new Settings(seed, quantities);
    }

    private static double nonNegative(Fields f, String key, double def) {
        double v = f.number(key, def);
        if (v < 0) {
            f.error(key, "must be 0 or more, got " + v);
            return def;
        }
        return v;
    }

}
