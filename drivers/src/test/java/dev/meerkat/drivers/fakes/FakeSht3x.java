package dev.meerkat.drivers.fakes;

import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.sht3x.Sht3xDriver;

/**
 * An SHT3x in single-shot mode without clock stretching (datasheet 4.3): a measurement command
 * starts a measurement of its repeatability's duration; a read header before it ends is NACKed; the
 * result is two words, each followed by its CRC-8. {@code badCrc} spoils the humidity word's CRC.
 */
public final class FakeSht3x extends FakeI2cChip {
    public volatile int rawT, rawRh;
    public volatile boolean badCrc;
    private long readyAt = Long.MAX_VALUE;
    public int nacks;

    @Override
    public String describe() {
        return "/dev/i2c-1 0x44";
    }

    @Override
    public synchronized void write(byte... data) throws DriverException {
        transaction();
        int cmd = (data[0] & 0xFF) << 8 | (data[1] & 0xFF);
        double typMicros = switch (cmd) {
            case 0x2400 -> 12_500; case 0x240B -> 4_500; case 0x2416 -> 2_500;
            default -> throw new DriverException(describe() + ": NACK on command 0x" + Integer.toHexString(cmd), false);
        };
        readyAt = System.nanoTime() + nanos(typMicros);
    }

    @Override
    public synchronized void read(byte[] into) throws DriverException {
        transaction();
        if (System.nanoTime() < readyAt) {
            nacks++;
            throw new DriverException(describe() + ": NACK (measurement not done)", false);
        }
        if (readyAt == Long.MAX_VALUE) throw new DriverException(describe() + ": NACK (no measurement)", false);
        readyAt = Long.MAX_VALUE;
        byte[] d = {(byte) (rawT >> 8), (byte) rawT, 0, (byte) (rawRh >> 8), (byte) rawRh, 0};
        d[2] = (byte) Sht3xDriver.crc8(d, 0, 2);
        d[5] = (byte) (Sht3xDriver.crc8(d, 3, 2) ^ (badCrc ? 0x01 : 0));
        System.arraycopy(d, 0, into, 0, Math.min(6, into.length));
    }
}
