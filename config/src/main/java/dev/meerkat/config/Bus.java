package dev.meerkat.config;

/** Where a sensor is attached (SPEC §4): an I2C device, a GPIO line or a 1-Wire slave. */
public sealed interface Bus {
    record None() implements Bus {}

    record I2c(int bus, int address) implements Bus {}

    record Gpio(int pin) implements Bus {}

    record OneWire(String slave) implements Bus {}

    Bus NONE = new None();

    static Bus read(Fields f) {
        boolean i2c = f.has("i2c"), gpio = f.has("gpio"), w1 = f.has("w1");
        if ((i2c ? 1 : 0) + (gpio ? 1 : 0) + (w1 ? 1 : 0) > 1) {
            f.error(null, "must name one bus: i2c, gpio or w1");
        }
        Bus bus = NONE;
        if (i2c) {
            int n = f.integer("i2c", 1, 0, 255);
            String addr = f.string("address", null, java.util.regex.Pattern.compile("0x[0-7][0-9a-fA-F]"),
                    "a 7-bit I2C address written 0x03 to 0x77");
            int a = addr == null ? 0 : Integer.parseInt(addr.substring(2), 16);
            if (addr == null && !f.has("address")) f.error("address", "is required for an i2c bus");
            else if (addr != null && (a < 0x03 || a > 0x77)) f.error("address", "must be between 0x03 and 0x77, got " + addr);
            bus = new I2c(n, a);
        } else if (gpio) {
            bus = new Gpio(f.integer("gpio", 0, 0, 1023));
        } else if (w1) {
            String s = f.string("w1", null, java.util.regex.Pattern.compile("[0-9a-f]{2}-[0-9a-f]{12}"),
                    "a 1-Wire slave id like 28-0316a2795cff");
            bus = new OneWire(s);
        }
        f.done();
        return bus;
    }
}
