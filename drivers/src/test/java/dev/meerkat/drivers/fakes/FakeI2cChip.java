package dev.meerkat.drivers.fakes;

import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.bus.I2cDevice;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bus side of a fake I2C chip, with the fault knobs every chip shares: a stuck bus (every
 * transaction fails, as with SDA held low), a hung bus (a transaction blocks until interrupted), a
 * slow chip (its conversions take {@code slowFactor} times as long).
 */
public abstract class FakeI2cChip implements I2cDevice {
    public volatile boolean stuck;
    public volatile boolean hung;
    public volatile double slowFactor = 1.0;
    public final AtomicInteger transactions = new AtomicInteger();
    public volatile boolean closed;

    protected void transaction() throws DriverException {
        transactions.incrementAndGet();
        if (closed) throw new IllegalStateException("used after close");
        if (stuck) throw new DriverException(describe() + ": I/O error (bus stuck)", false);
        while (hung) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DriverException(describe() + ": interrupted on a hung bus", false);
            }
        }
    }

    protected long nanos(double micros) {
        return (long) (micros * 1000 * slowFactor);
    }

    @Override
    public void close() {
        closed = true;
    }
}
