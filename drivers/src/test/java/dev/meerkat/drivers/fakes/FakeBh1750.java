package dev.meerkat.drivers.fakes;

import dev.meerkat.drivers.bus.DriverException;

/**
 * A BH1750FVI: opcode 0x20 (one-time high resolution) measures for 120 ms typical and powers
 * down; reading before the measurement ends returns the previous result (the chip does not NACK),
 * which is why the driver must wait out the maximum time.
 */
public final class FakeBh1750 extends FakeI2cChip {
    public volatile int count;
    private int result;
    private long readyAt;
    private int pending;

    @Override
    public String describe() {
        return "/dev/i2c-1 0x23";
    }

    @Override
    public synchronized void write(byte... data) throws DriverException {
        transaction();
        if (data[0] == 0x20) {
            pending = count;
            readyAt = System.nanoTime() + nanos(120_000);
        }
    }

    @Override
    public synchronized void read(byte[] into) throws DriverException {
        transaction();
        if (readyAt != 0 && System.nanoTime() >= readyAt) {
            result = pending;
            readyAt = 0;
        }
        into[0] = (byte) (result >> 8);
        into[1] = (byte) result;
    }
}
