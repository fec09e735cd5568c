package dev.meerkat.drivers;

import dev.meerkat.config.Bus;
import dev.meerkat.drivers.bus.DriverException;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/** What the I2C drivers share: the bus check, and waiting out a conversion. */
public final class I2cDrivers {
    private I2cDrivers() {}

    /** Null when {@code bus} is an I2C bus with one of {@code addresses}, else what is wrong. */
    public static String checkBus(String driver, Bus bus, List<Integer> addresses) {
        String list = addresses.stream().map(a -> String.format("0x%02x", a)).collect(Collectors.joining(" or "));
        if (!(bus instanceof Bus.I2c i2c)) return "the " + driver + " driver needs an i2c bus, like {\"i2c\": 1, \"address\": \"" + String.format("0x%02x", addresses.get(0)) + "\"}";
        if (!addresses.contains(i2c.address())) return String.format("a %s answers at %s, not 0x%02x", driver, list, i2c.address());
        return null;
    }

    /** Sleeps through a conversion; an interrupt (the read timed out, the sensor stops) ends the read. */
    public static void await(Duration d) throws DriverException {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DriverException("interrupted while waiting for a conversion", false, e);
        }
    }

    /** The sensor's I2C device, from the context's buses. */
    public static dev.meerkat.drivers.bus.I2cDevice device(dev.meerkat.config.SensorConfig c, DriverContext context) throws DriverException {
        Bus.I2c i2c = (Bus.I2c) c.bus();
        return context.buses().i2c(i2c.bus(), i2c.address());
    }
}
