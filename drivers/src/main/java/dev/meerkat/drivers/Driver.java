package dev.meerkat.drivers;

import dev.meerkat.config.Fields;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.bus.DriverException;

/**
 * A kind of sensor (SPEC §4 {@code driver}), found with {@link java.util.ServiceLoader}. A driver
 * checks its own settings and opens sensors; it keeps no state of its own.
 */
public interface Driver {
    /** The name config documents use, {@code bme280} or {@code simulated}. */
    String name();

    /** Reads and checks {@code settings}; problems go through {@link Fields#error}. */
    void checkSettings(Fields settings);

    /** What is wrong with the sensor's {@code bus} for this driver, or null when it fits. */
    default String checkBus(dev.meerkat.config.Bus bus) {
        return bus instanceof dev.meerkat.config.Bus.None ? null : "the " + name() + " driver uses no bus; remove it";
    }

    /**
     * The sensor's settings read with {@code parse} (the same reader {@link #checkSettings} uses);
     * they passed that check, so a problem now is a permanent error.
     */
    static <T> T settings(SensorConfig config, java.util.function.Function<Fields, T> parse) throws DriverException {
        java.util.List<dev.meerkat.config.ConfigError> errors = new java.util.ArrayList<>();
        T t = parse.apply(Fields.root(config.settings(), config.id(), errors));
        if (!errors.isEmpty()) throw new DriverException(errors.toString(), true);
        return t;
    }

    /**
     * The quantities the sensor's readings carry, each with its unit (as in {@link Sample}), in the
     * order the readings list them; known before any reading, for consumers that announce them
     * (Home Assistant discovery). The config has passed {@link #checkSettings}.
     */
    java.util.Map<String, String> quantities(SensorConfig config) throws DriverException;

    /** Opens the sensor's bus and device. The config has passed {@link #checkSettings}. */
    Sensor open(SensorConfig config, DriverContext context) throws DriverException;
}
