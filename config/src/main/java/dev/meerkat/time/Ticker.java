package dev.meerkat.time;

/**
 * A monotonic time source in nanoseconds, as {@link System#nanoTime()}: what the parts that wait,
 * back off or time out read, so that a test can drive their time instead of sleeping on it
 * (Caffeine's {@code Ticker}). Only differences between two readings mean anything.
 */
@FunctionalInterface
public interface Ticker {
    /** The real one. */
    Ticker SYSTEM = System::nanoTime;

    long nanos();
}
