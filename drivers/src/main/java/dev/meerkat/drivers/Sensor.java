package dev.meerkat.drivers;

/** An open sensor: polled with {@link #read()} on the sensor's interval, closed when it is removed. */
public interface Sensor extends AutoCloseable {
    /** Takes one sample. May block on the bus; the caller bounds it with a timeout. */
    Sample read() throws DriverException;

    @Override
    void close();
}
