package dev.meerkat.drivers.sht3x;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sensirion SHT30/31/35: temperature and humidity, single shot without clock stretching, each
 * word checked with its CRC-8 (datasheet SHT3x-DIS, sections 4.3, 4.12, 4.13).
 *
 * <pre>{@code { "driver": "sht3x", "bus": { "i2c": 1, "address": "0x44" },
 *   "settings": { "repeatability": "high" } } }</pre>
 */
public final class Sht3xDriver implements Driver {
    /** Command and longest measurement duration of each repeatability (datasheet table 4). */
    enum Repeatability {
        HIGH(0x2400, 15_500), MEDIUM(0x240B, 6_500), LOW(0x2416, 4_500);

        final int command;
        final long maxMicros;

        Repeatability(int command, long maxMicros) {
            this.command = command;
            this.maxMicros = maxMicros;
        }
    }

    @Override
    public java.util.Map<String, String> quantities(SensorConfig config) {
        java.util.Map<String, String> q = new java.util.LinkedHashMap<>();
        q.put("temperature", "Cel");
        q.put("humidity", "%RH");
        return q;
    }

    @Override
    public String name() {
        return "sht3x";
    }

    @Override
    public String checkBus(Bus bus) {
        return I2cDrivers.checkBus(name(), bus, List.of(0x44, 0x45));
    }

    @Override
    public void checkSettings(Fields settings) {
        parse(settings);
    }

    static Repeatability parse(Fields f) {
        String r = f.oneOf("repeatability", "high", List.of("high", "medium", "low"));
        f.done();
        return Repeatability.valueOf(r == null ? "HIGH" : r.toUpperCase(java.util.Locale.ROOT));
    }

    @Override
    public Sensor open(SensorConfig config, DriverContext context) throws DriverException {
        Repeatability r = Driver.settings(config, Sht3xDriver::parse);
        return new Sht3xSensor(I2cDrivers.device(config, context), r);
    }

    /** CRC-8 of the datasheet (section 4.12): polynomial 0x31, initial 0xFF, no reflection, no final XOR. */
    public static int crc8(byte[] data, int offset, int length) {
        int crc = 0xFF;
        for (int i = offset; i < offset + length; i++) {
            crc ^= data[i] & 0xFF;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 0x80) != 0 ? ((crc << 1) ^ 0x31) & 0xFF : (crc << 1) & 0xFF;
        }
        return crc;
    }

    static final class Sht3xSensor implements Sensor {
        private final I2cDevice dev;
        private final Repeatability r;

        Sht3xSensor(I2cDevice dev, Repeatability r) {
            this.dev = dev;
            this.r = r;
        }

        @Override
        public Sample read() throws DriverException {
            dev.write((byte) (r.command >> 8), (byte) r.command);
            I2cDrivers.await(Duration.ofNanos(r.maxMicros * 1000));
            byte[] d = new byte[6];
            dev.read(d); // the chip NACKs its read header until the measurement is done: a transient error
            for (int w = 0; w < 2; w++) {
                int expected = d[w * 3 + 2] & 0xFF, got = crc8(d, w * 3, 2);
                if (expected != got) {
                    throw new DriverException(String.format("%s: CRC mismatch on the %s word (0x%02x, computed 0x%02x): noise on the bus",
                            dev.describe(), w == 0 ? "temperature" : "humidity", expected, got), false);
                }
            }
            int st = (d[0] & 0xFF) << 8 | (d[1] & 0xFF), srh = (d[3] & 0xFF) << 8 | (d[4] & 0xFF);
            Map<String, Double> values = new LinkedHashMap<>();
            values.put("temperature", Math.round((-45 + 175.0 * st / 65535) * 100) / 100.0);
            values.put("humidity", Math.round(100.0 * srh / 65535 * 100) / 100.0);
            return new Sample(values, Map.of("temperature", "Cel", "humidity", "%RH"));
        }

        @Override
        public void close() {
            dev.close();
        }
    }
}
