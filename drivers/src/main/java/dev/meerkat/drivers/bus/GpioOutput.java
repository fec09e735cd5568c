package dev.meerkat.drivers.bus;

import dev.meerkat.drivers.DriverException;

/** A GPIO line driven as an output. */
public interface GpioOutput extends AutoCloseable {
    String describe();

    void set(boolean high) throws DriverException;

    boolean high() throws DriverException;

    @Override
    void close();
}
