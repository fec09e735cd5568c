package dev.meerkat.drivers.gpio;

import dev.meerkat.config.Bus;
import dev.meerkat.config.Fields;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.Driver;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.Sample;
import dev.meerkat.drivers.Sensor;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.bus.GpioInput;
import dev.meerkat.drivers.bus.Pull;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A GPIO input: each reading has the {@code level} now (0 or 1) and the {@code edges} counted since
 * the reading before (a flow meter, a door contact), debounced.
 *
 * <pre>{@code { "driver": "gpio-input", "bus": { "gpio": 17 },
 *   "settings": { "pull": "up", "debounce": "10ms", "edge": "falling" } } }</pre>
 * {@code pull}: up, down or none (default); {@code debounce}: 0 to 1s (default 10ms);
 * {@code edge}: rising, falling or both (default), which edges count; {@code report}: {@code interval}
 * (default: a reading each interval) or {@code edges} (also a reading at each counted edge, pushed as
 * it happens, with {@code edges} 1).
 */
public final class GpioInputDriver implements Driver {
    record Settings(Pull pull, Duration debounce, String edge, boolean pushEdges) {}

    @Override
    public java.util.Map<String, String> quantities(SensorConfig config) {
        java.util.Map<String, String> q = new java.util.LinkedHashMap<>();
        q.put("level", "1");
        q.put("edges", "1");
        return q;
    }

    @Override
    public String name() {
        return "gpio-input";
    }

    @Override
    public String checkBus(Bus bus) {
        return bus instanceof Bus.Gpio ? null : "the gpio-input driver needs a gpio line, like {\"gpio\": 17}";
    }

    @Override
    public void checkSettings(Fields settings) {
        parse(settings);
    }

    static Settings parse(Fields f) {
        String pull = f.oneOf("pull", "none", List.of("up", "down", "none"));
        Duration debounce = f.duration("debounce", Duration.ofMillis(10), Duration.ZERO, Duration.ofSeconds(1));
        String edge = f.oneOf("edge", "both", List.of("rising", "falling", "both"));
        String report = f.oneOf("report", "interval", List.of("interval", "edges"));
        f.done();
        return new Settings(Pull.valueOf((pull == null ? "none" : pull).toUpperCase(Locale.ROOT)), debounce, edge == null ? "both" : edge,
                "edges".equals(report));
    }

    /** The level at opening; a line that cannot be read yet counts as low (its first reading says why). */
    private static boolean high(GpioInput in) {
        try {
            return in.high();
        } catch (DriverException e) {
            return false;
        }
    }

    static Sample sample(boolean high, long edges) {
        Map<String, Double> v = new LinkedHashMap<>();
        v.put("level", high ? 1.0 : 0.0);
        v.put("edges", (double) edges);
        return new Sample(v, Map.of("level", "1", "edges", "1"));
    }

    @Override
    public Sensor open(SensorConfig config, DriverContext context) throws DriverException {
        Settings s = Driver.settings(config, GpioInputDriver::parse);
        GpioInput in = context.buses().gpioInput(((Bus.Gpio) config.bus()).pin(), s.pull(), s.debounce());
        AtomicLong edges = new AtomicLong();
        java.util.concurrent.atomic.AtomicReference<java.util.function.Consumer<Sample>> push = new java.util.concurrent.atomic.AtomicReference<>();
        // The level last reported: a report that does not change it is no edge. Pi4J's gpiod plugin
        // debounces in user space and reports the settled level once the line is quiet, also after a
        // pulse shorter than the period (the first one after opening, before it knows a level), which
        // the emulated Pi's test caught (test/system/pi-test.sh).
        java.util.concurrent.atomic.AtomicBoolean last = new java.util.concurrent.atomic.AtomicBoolean(high(in));
        in.onEdge(high -> {
            if (last.getAndSet(high) == high) return;
            if (!(s.edge().equals("both") || s.edge().equals("rising") == high)) return;
            edges.incrementAndGet();
            var p = push.get();
            if (p != null) p.accept(sample(high, 1));
        });
        return new Sensor() {
            @Override
            public void listen(java.util.function.Consumer<Sample> events) {
                if (s.pushEdges()) push.set(events);
            }

            @Override
            public Sample read() throws DriverException {
                return sample(in.high(), edges.getAndSet(0));
            }

            @Override
            public void close() {
                in.close();
            }
        };
    }
}
