package dev.meerkat.drivers;

import dev.meerkat.config.DriverCatalog;
import dev.meerkat.config.Fields;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The drivers on the class path, by name; also the config layer's {@link DriverCatalog}. */
public final class Drivers implements DriverCatalog {
    private final Map<String, Driver> byName;

    private Drivers(Map<String, Driver> byName) {
        this.byName = byName;
    }

    public static Drivers load() {
        Map<String, Driver> map = new TreeMap<>();
        for (Driver d : ServiceLoader.load(Driver.class, Drivers.class.getClassLoader())) {
            Driver clash = map.putIfAbsent(d.name(), d);
            if (clash != null) {
                throw new IllegalStateException("two drivers are named " + d.name() + ": "
                        + clash.getClass().getName() + " and " + d.getClass().getName());
            }
        }
        return new Drivers(map);
    }

    /** Just these drivers (tests, embedding). */
    public static Drivers of(Driver... drivers) {
        Map<String, Driver> map = new TreeMap<>();
        for (Driver d : drivers) map.put(d.name(), d);
        return new Drivers(map);
    }

    public Optional<Driver> get(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /**
     * Each sensor's quantities with their units ({@link Driver#quantities}), by sensor id, in id
     * order; a sensor whose driver is unknown or cannot say is left out, and told to {@code skipped}.
     */
    public Map<String, Map<String, String>> quantities(java.util.Collection<dev.meerkat.config.SensorConfig> sensors,
                                                       java.util.function.BiConsumer<String, String> skipped) {
        Map<String, Map<String, String>> out = new TreeMap<>();
        for (dev.meerkat.config.SensorConfig s : sensors) {
            Driver d = byName.get(s.driver());
            try {
                if (d == null) skipped.accept(s.id(), "no driver " + s.driver());
                else out.put(s.id(), d.quantities(s));
            } catch (dev.meerkat.drivers.bus.DriverException e) {
                skipped.accept(s.id(), e.getMessage());
            }
        }
        return out;
    }

    @Override
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    @Override
    public void checkSettings(String driver, Fields settings) {
        Driver d = byName.get(driver);
        if (d != null) d.checkSettings(settings);
    }

    @Override
    public String checkBus(String driver, dev.meerkat.config.Bus bus) {
        Driver d = byName.get(driver);
        return d == null ? null : d.checkBus(bus);
    }
}
