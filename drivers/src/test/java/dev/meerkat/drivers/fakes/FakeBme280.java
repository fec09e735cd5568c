package dev.meerkat.drivers.fakes;

import dev.meerkat.drivers.bus.DriverException;

/**
 * A BME280 as its datasheet describes it: chip id at 0xD0, trimming at 0x88..0xA1 and 0xE1..0xE7,
 * ctrl_hum (0xF2) that takes effect at the next write of ctrl_meas (0xF4), a forced measurement
 * that keeps status bit 3 set for its measurement time (section 9.1) and then loads the data
 * registers 0xF7..0xFE (0x80000 / 0x8000 for a skipped quantity) and goes back to sleep mode.
 * Writes are register/value pairs; reads auto-increment from the register pointer.
 */
public final class FakeBme280 extends FakeI2cChip {
    private final int[] regs = new int[256];
    private int pointer;
    private long measuringUntil;
    private int pendingHum, activeHum;
    public volatile int adcT, adcP, adcH;
    public volatile int chipId = 0x60;
    public int forcedMeasurements;
    public int readsWhileMeasuring;

    /** With the trimming of {@code b88} (26 bytes from 0x88) and {@code be1} (7 bytes from 0xE1). */
    public FakeBme280(byte[] b88, byte[] be1) {
        for (int i = 0; i < 26; i++) regs[0x88 + i] = b88[i] & 0xFF;
        for (int i = 0; i < 7; i++) regs[0xE1 + i] = be1[i] & 0xFF;
        load(0x80000, 0x80000, 0x8000);
    }

    @Override
    public String describe() {
        return "/dev/i2c-1 0x76";
    }

    @Override
    public synchronized void write(byte... data) throws DriverException {
        transaction();
        pointer = data[0] & 0xFF;
        for (int i = 0; i + 1 < data.length; i += 2) set(data[i] & 0xFF, data[i + 1] & 0xFF);
    }

    private void set(int reg, int value) {
        switch (reg) {
            case 0xE0 -> { if (value == 0xB6) java.util.Arrays.fill(regs, 0xF2, 0xF6, 0); }
            case 0xF2 -> pendingHum = value & 0x07;
            case 0xF4 -> {
                regs[0xF4] = value;
                activeHum = pendingHum;
                if ((value & 0x03) == 0x01 || (value & 0x03) == 0x02) startForced(value);
            }
            default -> regs[reg] = value;
        }
    }

    private void startForced(int ctrlMeas) {
        forcedMeasurements++;
        int t = os(ctrlMeas >> 5 & 7), p = os(ctrlMeas >> 2 & 7), h = os(activeHum);
        double typMicros = 1000 + 2000 * t + (p == 0 ? 0 : 2000 * p + 500) + (h == 0 ? 0 : 2000 * h + 500);
        measuringUntil = System.nanoTime() + nanos(typMicros);
        pendingLoad = new int[] {t == 0 ? 0x80000 : adcT, p == 0 ? 0x80000 : adcP, h == 0 ? 0x8000 : adcH};
    }

    private int[] pendingLoad;

    private static int os(int code) {
        return code == 0 ? 0 : 1 << Math.min(code - 1, 4);
    }

    private void settle() {
        if (pendingLoad != null && System.nanoTime() >= measuringUntil) {
            load(pendingLoad[0], pendingLoad[1], pendingLoad[2]);
            pendingLoad = null;
            regs[0xF4] &= ~0x03; // back to sleep mode
        }
        regs[0xF3] = pendingLoad != null ? 0x08 : 0x00;
    }

    private void load(int t, int p, int h) {
        regs[0xF7] = p >> 12 & 0xFF; regs[0xF8] = p >> 4 & 0xFF; regs[0xF9] = (p & 0xF) << 4;
        regs[0xFA] = t >> 12 & 0xFF; regs[0xFB] = t >> 4 & 0xFF; regs[0xFC] = (t & 0xF) << 4;
        regs[0xFD] = h >> 8 & 0xFF; regs[0xFE] = h & 0xFF;
    }

    @Override
    public synchronized void read(byte[] into) throws DriverException {
        transaction();
        settle();
        regs[0xD0] = chipId;
        if (pendingLoad != null && pointer >= 0xF7) readsWhileMeasuring++;
        for (int i = 0; i < into.length; i++) into[i] = (byte) regs[(pointer + i) & 0xFF];
    }
}
