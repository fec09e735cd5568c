package dev.meerkat.drivers.fakes;

import dev.meerkat.drivers.bus.DriverException;

/**
 * An ADS1115 (datasheet SBAS444 8.6): pointer register, then 16-bit registers MSB first; writing the
 * config with OS=1 in single-shot mode starts a conversion of 1/DR seconds, during which OS reads 0;
 * the result is the input voltage of the selected channel over the PGA's full scale, clipped.
 */
public final class FakeAds1115 extends FakeI2cChip {
    static final double[] FS = {6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256};
    static final int[] DR = {8, 16, 32, 64, 128, 250, 475, 860};
    public final double[] volts = new double[4];
    private int pointer, config = 0x8583, conversion;
    private long readyAt;
    private double pendingVolts;

    @Override
    public String describe() {
        return "/dev/i2c-1 0x48";
    }

    @Override
    public synchronized void write(byte... data) throws DriverException {
        transaction();
        pointer = data[0] & 0x03;
        if (data.length == 3 && pointer == 1) {
            int v = (data[1] & 0xFF) << 8 | (data[2] & 0xFF);
            config = v & 0x7FFF;
            if ((v & 0x8000) != 0 && (v & 0x0100) != 0) {
                int mux = v >> 12 & 7;
                pendingVolts = mux >= 4 ? volts[mux - 4] : 0;
                readyAt = System.nanoTime() + nanos(1e6 / DR[v >> 5 & 7]);
            }
        }
    }

    private void settle() {
        if (readyAt != 0 && System.nanoTime() >= readyAt) {
            double fs = FS[config >> 9 & 7];
            conversion = (int) Math.max(-32768, Math.min(32767, Math.round(pendingVolts / fs * 32768)));
            readyAt = 0;
        }
    }

    @Override
    public synchronized void read(byte[] into) throws DriverException {
        transaction();
        settle();
        int v = pointer == 0 ? conversion & 0xFFFF : (readyAt == 0 ? 0x8000 : 0) | config;
        into[0] = (byte) (v >> 8);
        if (into.length > 1) into[1] = (byte) v;
    }
}
