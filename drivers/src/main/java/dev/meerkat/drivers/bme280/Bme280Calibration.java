package dev.meerkat.drivers.bme280;

/**
 * The trimming parameters of one BME280 and the datasheet's compensation formulas in double
 * precision (Bosch BST-BME280-DS002, section 8.1). Register layout, section 4.2.2: {@code 0x88..0xA1}
 * hold T1..T3, P1..P9 (little-endian 16-bit; T1 and P1 unsigned) and H1 at {@code 0xA1};
 * {@code 0xE1..0xE7} hold H2..H6, H4 and H5 being 12-bit values sharing {@code 0xE5}.
 */
public record Bme280Calibration(int t1, int t2, int t3, int p1, int p2, int p3, int p4, int p5, int p6, int p7, int p8, int p9,
                                int h1, int h2, int h3, int h4, int h5, int h6) {

    /** From the 26 bytes at {@code 0x88} and the 7 at {@code 0xE1}. */
    public static Bme280Calibration parse(byte[] b88, byte[] be1) {
        return new Bme280Calibration(u16(b88, 0), s16(b88, 2), s16(b88, 4),
                u16(b88, 6), s16(b88, 8), s16(b88, 10), s16(b88, 12), s16(b88, 14), s16(b88, 16), s16(b88, 18), s16(b88, 20), s16(b88, 22),
                b88[25] & 0xFF,
                s16(be1, 0), be1[2] & 0xFF,
                (be1[3] << 4) | (be1[4] & 0x0F),          // E4 is signed: H4 is a signed 12-bit value
                (be1[5] << 4) | ((be1[4] & 0xFF) >> 4),   // so is H5, with E6 as its signed high byte
                be1[6]);
    }

    private static int u16(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8;
    }

    private static int s16(byte[] b, int i) {
        return (short) u16(b, i);
    }

    /** {@code t_fine}, the temperature in the form the pressure and humidity formulas take. */
    public double tFine(int adcT) {
        double var1 = (adcT / 16384.0 - t1 / 1024.0) * t2;
        double var2 = (adcT / 131072.0 - t1 / 8192.0) * (adcT / 131072.0 - t1 / 8192.0) * t3;
        return (long) (var1 + var2);
    }

    /** Degrees Celsius. */
    public double temperature(int adcT) {
        double var1 = (adcT / 16384.0 - t1 / 1024.0) * t2;
        double var2 = (adcT / 131072.0 - t1 / 8192.0) * (adcT / 131072.0 - t1 / 8192.0) * t3;
        return (var1 + var2) / 5120.0;
    }

    /** Pascal; NaN when the trimming makes the formula divide by zero (a chip with no trimming). */
    public double pressure(int adcP, double tFine) {
        double var1 = tFine / 2.0 - 64000.0;
        double var2 = var1 * var1 * p6 / 32768.0;
        var2 = var2 + var1 * p5 * 2.0;
        var2 = var2 / 4.0 + p4 * 65536.0;
        var1 = (p3 * var1 * var1 / 524288.0 + p2 * var1) / 524288.0;
        var1 = (1.0 + var1 / 32768.0) * p1;
        if (var1 == 0.0) return Double.NaN;
        double p = 1048576.0 - adcP;
        p = (p - var2 / 4096.0) * 6250.0 / var1;
        var1 = p9 * p * p / 2147483648.0;
        var2 = p * p8 / 32768.0;
        return p + (var1 + var2 + p7) / 16.0;
    }

    /** Percent relative humidity, 0 to 100. */
    public double humidity(int adcH, double tFine) {
        double h = tFine - 76800.0;
        h = (adcH - (h4 * 64.0 + h5 / 16384.0 * h)) * (h2 / 65536.0 * (1.0 + h6 / 67108864.0 * h * (1.0 + h3 / 67108864.0 * h)));
        h = h * (1.0 - h1 * h / 524288.0);
        return Math.max(0, Math.min(100, h));
    }
}
