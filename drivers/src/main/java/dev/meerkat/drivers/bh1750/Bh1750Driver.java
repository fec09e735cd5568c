package dev.meerkat.drivers.bh1750;

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
 * ROHM BH1750FVI: ambient light, one-time high-resolution mode (opcode 0x20: power on, measure,
 * power down; at most 180 ms), lux = count / 1.2 (datasheet, measurement sequence example).
 *
 * <pre>{@code { "driver": "bh1750", "bus": { "i2c": 1, "address": "0x23" } } }</pre>
 */
public final class Bh1750Driver implements Driver {
    static final byte ONE_TIME_HIGH_RES = 0x20;
    static final Duration MAX_MEASUREMENT = Duration.ofMillis(180);

    @Override
    public java.util.Map<String, String> quantities(SensorConfig config) {
        return java.util.Map.of("illuminance", "lx");
    }

    @Override
    public String name() {
        return "bh1750";
    }

    @Override
    public String checkBus(Bus bus) {
        return I2cDrivers.checkBus(name(), bus, List.of(0x23, 0x5C));
    }

    @Override
    public void checkSettings(Fields settings) {
        settings.done(); // no settings
    }

    @Override
    public Sensor open(SensorConfig config, DriverContext context) throws DriverException {
        Driver.settings(config, f -> {
            checkSettings(f);
            return null;
        });
        I2cDevice dev = I2cDrivers.device(config, context);
        return new Sensor() {
            @Override
            public Sample read() throws DriverException {
                dev.write(ONE_TIME_HIGH_RES);
                I2cDrivers.await(MAX_MEASUREMENT);
                byte[] b = new byte[2];
                dev.read(b);
                int count = (b[0] & 0xFF) << 8 | (b[1] & 0xFF);
                return new Sample(Map.of("illuminance", Math.round(count / 1.2 * 10) / 10.0), Map.of("illuminance", "lx"));
            }

            @Override
            public void close() {
                dev.close();
            }
        };
    }
}
