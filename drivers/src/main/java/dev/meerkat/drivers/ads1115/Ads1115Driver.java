package dev.meerkat.drivers.ads1115;

import dev.meerkat.config.Bus;
import dev.meerkat.config.Fields;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.Driver;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.I2cDrivers;
import dev.meerkat.drivers.Sample;
import dev.meerkat.drivers.Sensor;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.bus.I2cDevice;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * TI ADS1115: one single-ended channel, single-shot conversions (datasheet SBAS444, section 8.6:
 * conversion register 0x00, config register 0x01).
 *
 * <pre>{@code { "driver": "ads1115", "bus": { "i2c": 1, "address": "0x48" },
 *   "settings": { "channel": 0, "fullScale": "4.096", "dataRate": 128 } } }</pre>
 * {@code fullScale} is the PGA's range in volts (6.144, 4.096, 2.048, 1.024, 0.512, 0.256; default
 * 2.048); {@code dataRate} in samples per second (8 to 860; default 128). The reading is
 * {@code voltage} in volts.
 */
public final class Ads1115Driver implements Driver {
    static final int CONVERSION = 0x00, CONFIG = 0x01;
    static final List<String> FULL_SCALE = List.of("6.144", "4.096", "2.048", "1.024", "0.512", "0.256");
    static final List<Integer> DATA_RATE = List.of(8, 16, 32, 64, 128, 250, 475, 860);

    record Settings(int channel, int pga, int dataRate) {
        double fullScale() {
            return Double.parseDouble(FULL_SCALE.get(pga));
        }

        /** OS=1 (start), MUX=1xx (AINx vs GND), PGA, MODE=1 (single shot), DR, comparator off (0b00011). */
        int config() {
            return 1 << 15 | (0b100 | channel) << 12 | pga << 9 | 1 << 8 | DATA_RATE.indexOf(dataRate) << 5 | 0b00011;
        }
    }

    @Override
    public java.util.Map<String, String> quantities(SensorConfig config) {
        return java.util.Map.of("voltage", "V");
    }

    @Override
    public String name() {
        return "ads1115";
    }

    @Override
    public String checkBus(Bus bus) {
        return I2cDrivers.checkBus(name(), bus, List.of(0x48, 0x49, 0x4A, 0x4B));
    }

    @Override
    public void checkSettings(Fields settings) {
        parse(settings);
    }

    static Settings parse(Fields f) {
        int channel = f.integer("channel", 0, 0, 3);
        String fs = f.oneOf("fullScale", "2.048", FULL_SCALE);
        int rate = f.integer("dataRate", 128, 8, 860);
        if (!DATA_RATE.contains(rate)) {
            f.error("dataRate", "must be one of " + DATA_RATE + " samples per second, got " + rate);
            rate = 128;
        }
        f.done();
        return new Settings(channel, Math.max(0, FULL_SCALE.indexOf(fs == null ? "2.048" : fs)), rate);
    }

    @Override
    public Sensor open(SensorConfig config, DriverContext context) throws DriverException {
        Settings s = Driver.settings(config, Ads1115Driver::parse);
        I2cDevice dev = I2cDrivers.device(config, context);
        return new Sensor() {
            @Override
            public Sample read() throws DriverException {
                int cfg = s.config();
                dev.write((byte) CONFIG, (byte) (cfg >> 8), (byte) cfg);
                // One conversion takes 1/DR; the oscillator may run 10% slow (datasheet 7.5).
                I2cDrivers.await(Duration.ofNanos((long) (1.1e9 / s.dataRate()) + 100_000));
                byte[] b = new byte[2];
                for (int i = 0; ; i++) {
                    dev.readRegisters(CONFIG, b);
                    if ((b[0] & 0x80) != 0) break; // OS reads 1 when no conversion is running
                    if (i >= 10) throw new DriverException(dev.describe() + ": conversion still running past its time", false);
                    I2cDrivers.await(Duration.ofMillis(1));
                }
                dev.readRegisters(CONVERSION, b);
                int raw = (short) ((b[0] & 0xFF) << 8 | (b[1] & 0xFF));
                double volts = raw * s.fullScale() / 32768.0;
                return new Sample(Map.of("voltage", Math.round(volts * 1e6) / 1e6), Map.of("voltage", "V"));
            }

            @Override
            public void close() {
                dev.close();
            }
        };
    }
}
