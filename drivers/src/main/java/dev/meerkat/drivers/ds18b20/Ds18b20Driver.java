package dev.meerkat.drivers.ds18b20;

import dev.meerkat.config.Bus;
import dev.meerkat.config.Fields;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.Driver;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.Sample;
import dev.meerkat.drivers.Sensor;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.bus.OneWire;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maxim DS18B20 on the kernel's 1-Wire bus ({@code w1_therm}). The kernel runs the conversion (up
 * to 750 ms at 12 bits) when {@code w1_slave} is read and prints the 9-byte scratchpad twice, with
 * its CRC verdict; the driver checks that CRC itself too (Dallas/Maxim CRC-8, datasheet "CRC
 * generation") and refuses the power-on value 85 °C and an all-zero scratchpad (a lost sensor).
 *
 * <pre>{@code { "driver": "ds18b20", "bus": { "w1": "28-0316a2795cff" } } }</pre>
 */
public final class Ds18b20Driver implements Driver {
    private static final Pattern BYTES = Pattern.compile("((?:[0-9a-f]{2} ){9}): crc=([0-9a-f]{2}) (YES|NO)");

    @Override
    public java.util.Map<String, String> quantities(SensorConfig config) {
        return java.util.Map.of("temperature", "Cel");
    }

    @Override
    public String name() {
        return "ds18b20";
    }

    @Override
    public String checkBus(Bus bus) {
        if (!(bus instanceof Bus.OneWire w)) return "the ds18b20 driver needs a 1-Wire bus, like {\"w1\": \"28-0316a2795cff\"}";
        if (w.slave() != null && !w.slave().startsWith("28-")) return "a DS18B20's 1-Wire id starts with 28-, got " + w.slave();
        return null;
    }

    @Override
    public void checkSettings(Fields settings) {
        settings.done();
    }

    @Override
    public Sensor open(SensorConfig config, DriverContext context) throws DriverException {
        Driver.settings(config, f -> {
            checkSettings(f);
            return null;
        });
        String slave = ((Bus.OneWire) config.bus()).slave();
        OneWire w1 = context.buses().oneWire();
        return new Sensor() {
            @Override
            public Sample read() throws DriverException {
                return Sample1.parse(slave, w1.readSlave(slave));
            }

            @Override
            public void close() {}
        };
    }

    /** Parsing one {@code w1_slave} text. */
    static final class Sample1 {
        static Sample parse(String slave, String text) throws DriverException {
            Matcher m = BYTES.matcher(text);
            if (!m.find()) throw new DriverException(slave + ": unreadable w1_slave: " + text.strip(), false);
            String[] hex = m.group(1).trim().split(" ");
            byte[] b = new byte[9];
            for (int i = 0; i < 9; i++) b[i] = (byte) Integer.parseInt(hex[i], 16);
            if (!"YES".equals(m.group(3)) || crc8(b, 8) != (b[8] & 0xFF)) {
                throw new DriverException(slave + ": CRC mismatch on the scratchpad: noise on the 1-Wire bus (check the 4.7k pull-up)", false);
            }
            boolean zeros = true;
            for (byte x : b) zeros &= x == 0;
            if (zeros) throw new DriverException(slave + ": the scratchpad reads all zeros: the sensor lost power or its data line", false);
            int raw = (short) ((b[1] & 0xFF) << 8 | (b[0] & 0xFF));
            if (raw == 0x0550) throw new DriverException(slave + ": 85 °C is the power-on value: the conversion did not run (parasite power?)", false);
            double celsius = raw / 16.0;
            return new Sample(Map.of("temperature", celsius), Map.of("temperature", "Cel"));
        }
    }

    /** Dallas/Maxim CRC-8: polynomial x^8 + x^5 + x^4 + 1, least significant bit first. */
    public static int crc8(byte[] data, int length) {
        int crc = 0;
        for (int i = 0; i < length; i++) {
            int in = data[i] & 0xFF;
            for (int bit = 0; bit < 8; bit++) {
                int mix = (crc ^ in) & 0x01;
                crc >>= 1;
                if (mix != 0) crc ^= 0x8C;
                in >>= 1;
            }
        }
        return crc;
    }
}
