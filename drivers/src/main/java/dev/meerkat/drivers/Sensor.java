package dev.meerkat.drivers;

import dev.meerkat.drivers.bus.DriverException;

/**
 * An open sensor: polled with {@link #read()} on the sensor's interval, closed when it is removed.
 * A sensor may also push samples as events happen ({@link #listen}).
 */
public interface Sensor extends AutoCloseable {
    /** Takes one sample. May block on the bus; the caller bounds it with a timeout. */
    Sample read() throws DriverException;

    /**
     * Called once after opening: a sensor that pushes samples (an edge on a GPIO line) hands each to
     * {@code events}, from a thread of its bus's; the agent numbers and publishes them like polled
     * ones. The default pushes nothing.
     */
    default void listen(java.util.function.Consumer<Sample> events) {}

    @Override
    void close();
}
