package dev.meerkat.drivers.bus;


/** A GPIO line driven as an output. */
public interface GpioOutput extends AutoCloseable {
    String describe();

    void set(boolean high) throws DriverException;

    boolean high() throws DriverException;

    @Override
    void close();
}
