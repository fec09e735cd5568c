package dev.meerkat.drivers.bus;

import java.util.function.Consumer;

/** A GPIO line read as an input; edges arrive on a thread of the bus's, debounced by the kernel or the library. */
public interface GpioInput extends AutoCloseable {
    String describe();

    boolean high() throws DriverException;

    /** Calls {@code onEdge} with the new level at every (debounced) change of level. */
    void onEdge(Consumer<Boolean> onEdge);

    @Override
    void close();
}
