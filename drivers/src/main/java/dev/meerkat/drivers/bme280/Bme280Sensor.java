package dev.meerkat.drivers.bme280;

import dev.meerkat.drivers.I2cDrivers;
import dev.meerkat.drivers.Sample;
import dev.meerkat.drivers.Sensor;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.bus.I2cDevice;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** One BME280 (datasheet BST-BME280-DS002; register map section 5.3). */
final class Bme280Sensor implements Sensor {
    static final int CHIP_ID = 0xD0, RESET = 0xE0, CTRL_HUM = 0xF2, STATUS = 0xF3, CTRL_MEAS = 0xF4, DATA = 0xF7;
    static final int CALIB_00 = 0x88, CALIB_26 = 0xE1;
    static final int ID = 0x60;
    static final int SKIPPED_20 = 0x80000, SKIPPED_16 = 0x8000;

    private final I2cDevice dev;
    private final Bme280Driver.Settings settings;
    private final Bme280Calibration cal;

    private Bme280Sensor(I2cDevice dev, Bme280Driver.Settings settings, Bme280Calibration cal) {
        this.dev = dev;
        this.settings = settings;
        this.cal = cal;
    }

    static Bme280Sensor open(I2cDevice dev, Bme280Driver.Settings settings) throws DriverException {
        try {
            int id = dev.readRegister(CHIP_ID);
            if (id != ID) {
                String what = id == 0x58 ? " (a BMP280, which has no humidity: use a BME280)" : "";
                throw new DriverException(String.format("%s: chip id 0x%02x, not a BME280 (0x60)%s", dev.describe(), id, what), true);
            }
            // After power-on the chip copies its trimming from NVM; wait until that is done (status bit 0).
            for (int i = 0; (dev.readRegister(STATUS) & 0x01) != 0; i++) {
                if (i >= 20) throw new DriverException(dev.describe() + ": still copying its calibration after 20ms", false);
                I2cDrivers.await(Duration.ofMillis(1));
            }
            byte[] a = new byte[26], b = new byte[7];
            dev.readRegisters(CALIB_00, a);
            dev.readRegisters(CALIB_26, b);
            Bme280Calibration cal = Bme280Calibration.parse(a, b);
            if (cal.t1() == 0 || cal.p1() == 0) throw new DriverException(dev.describe() + ": calibration is blank (T1 or P1 is 0)", true);
            return new Bme280Sensor(dev, settings, cal);
        } catch (DriverException e) {
            dev.close();
            throw e;
        }
    }

    static int code(int oversampling) {
        return oversampling == 0 ? 0 : Integer.numberOfTrailingZeros(oversampling) + 1;
    }

    /** The longest a forced measurement takes, datasheet section 9.1, in microseconds. */
    static long maxMeasurementMicros(Bme280Driver.Settings s) {
        double ms = 1.25 + 2.3 * s.t() + (s.p() == 0 ? 0 : 2.3 * s.p() + 0.575) + (s.h() == 0 ? 0 : 2.3 * s.h() + 0.575);
        return (long) Math.ceil(ms * 1000);
    }

    @Override
    public Sample read() throws DriverException {
        // ctrl_hum takes effect only with the write to ctrl_meas that follows it (section 5.4.3).
        dev.writeRegister(CTRL_HUM, code(settings.h()));
        dev.writeRegister(CTRL_MEAS, code(settings.t()) << 5 | code(settings.p()) << 2 | 0b01); // forced mode
        long max = maxMeasurementMicros(settings);
        I2cDrivers.await(Duration.ofNanos(max * 1000));
        // A chip slower than its datasheet gets as long again, polled each millisecond, then the read fails.
        for (int i = 0; (dev.readRegister(STATUS) & 0x08) != 0; i++) {
            if (i >= Math.max(10, max / 1000)) throw new DriverException(dev.describe() + ": measurement still running past its maximum time", false);
            I2cDrivers.await(Duration.ofMillis(1));
        }
        byte[] d = new byte[8];
        dev.readRegisters(DATA, d); // one burst read, so all three come from the same measurement
        int adcP = (d[0] & 0xFF) << 12 | (d[1] & 0xFF) << 4 | (d[2] & 0xFF) >> 4;
        int adcT = (d[3] & 0xFF) << 12 | (d[4] & 0xFF) << 4 | (d[5] & 0xFF) >> 4;
        int adcH = (d[6] & 0xFF) << 8 | (d[7] & 0xFF);
        if (adcT == SKIPPED_20) throw new DriverException(dev.describe() + ": no temperature measured (reset value)", false);
        double tFine = cal.tFine(adcT);
        Map<String, Double> values = new LinkedHashMap<>();
        Map<String, String> units = new LinkedHashMap<>();
        values.put("temperature", round(cal.temperature(adcT), 2));
        units.put("temperature", "Cel");
        if (settings.h() != 0 && adcH != SKIPPED_16) {
            values.put("humidity", round(cal.humidity(adcH, tFine), 2));
            units.put("humidity", "%RH");
        }
        if (settings.p() != 0 && adcP != SKIPPED_20) {
            double pa = cal.pressure(adcP, tFine);
            if (Double.isNaN(pa)) throw new DriverException(dev.describe() + ": pressure compensation divided by zero", false);
            values.put("pressure", round(pa / 100.0, 2));
            units.put("pressure", "hPa");
        }
        return new Sample(values, units);
    }

    static double round(double v, int places) {
        double f = Math.pow(10, places);
        return Math.round(v * f) / f;
    }

    @Override
    public void close() {
        dev.close();
    }
}
