package dev.meerkat.drivers.bme280;

import dev.meerkat.config.Bus;
import dev.meerkat.config.Fields;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.Driver;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.I2cDrivers;
import dev.meerkat.drivers.Sensor;
import dev.meerkat.drivers.bus.DriverException;
import java.util.List;

/**
 * Bosch BME280: temperature, humidity and pressure, in forced mode (one measurement per reading,
 * the chip sleeping in between).
 *
 * <pre>{@code { "driver": "bme280", "bus": { "i2c": 1, "address": "0x76" },
 *   "settings": { "oversampling": 4 } } }</pre>
 * {@code oversampling} (1, 2, 4, 8 or 16; default 1) applies to all three; {@code temperature},
 * {@code humidity}, {@code pressure} (same values, or 0 to skip one, not temperature) set them one by one.
 */
public final class Bme280Driver implements Driver {
    static final List<Integer> OVERSAMPLING = List.of(1, 2, 4, 8, 16);

    /** Temperature always; humidity and pressure unless their oversampling is 0 (skipped). */
    @Override
    public java.util.Map<String, String> quantities(SensorConfig config) throws DriverException {
        Settings s = Driver.settings(config, Bme280Driver::parse);
        java.util.Map<String, String> q = new java.util.LinkedHashMap<>();
        q.put("temperature", "Cel");
        if (s.h() != 0) q.put("humidity", "%RH");
        if (s.p() != 0) q.put("pressure", "hPa");
        return q;
    }

    @Override
    public String name() {
        return "bme280";
    }

    @Override
    public String checkBus(Bus bus) {
        return I2cDrivers.checkBus(name(), bus, List.of(0x76, 0x77));
    }

    @Override
    public void checkSettings(Fields settings) {
        parse(settings);
    }

    /** Oversampling of temperature, pressure and humidity: 1 to 16, 0 for skipped. */
    record Settings(int t, int p, int h) {}

    static Settings parse(Fields f) {
        int all = oversampling(f, "oversampling", 1, false);
        Settings s = new Settings(oversampling(f, "temperature", all, false), oversampling(f, "pressure", all, true),
                oversampling(f, "humidity", all, true));
        f.done();
        return s;
    }

    private static int oversampling(Fields f, String key, int def, boolean mayBeOff) {
        int v = f.integer(key, def, 0, 16);
        if (!OVERSAMPLING.contains(v) && !(mayBeOff && v == 0)) {
            f.error(key, "must be 1, 2, 4, 8 or 16" + (mayBeOff ? " (or 0 to skip it)" : "") + ", got " + v);
            return def;
        }
        return v;
    }

    @Override
    public Sensor open(SensorConfig config, DriverContext context) throws DriverException {
        Settings s = Driver.settings(config, Bme280Driver::parse);
        return Bme280Sensor.open(I2cDrivers.device(config, context), s);
    }
}
