package dev.meerkat.config;

import java.util.List;

/**
 * What the config layer needs to know of the drivers without depending on them: which names exist,
 * and each driver's own check of its {@code settings}. The drivers module provides the real one.
 */
public interface DriverCatalog {
    List<String> names();

    /** Reads and checks a driver's settings, reporting problems through {@code settings}. */
    void checkSettings(String driver, Fields settings);

    /** What is wrong with {@code bus} for this driver ({@code "needs an i2c bus"}), or null when it fits. */
    default String checkBus(String driver, Bus bus) {
        return null;
    }
}
