package dev.meerkat.drivers.fakes;

import dev.meerkat.drivers.bus.Buses;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.bus.GpioInput;
import dev.meerkat.drivers.bus.GpioOutput;
import dev.meerkat.drivers.bus.I2cDevice;
import dev.meerkat.drivers.bus.OneWire;
import dev.meerkat.drivers.bus.Pull;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Buses with fake chips on them, by address, pin and 1-Wire id. */
public final class FakeBuses implements Buses {
    public final Map<Integer, I2cDevice> i2c = new HashMap<>();
    public final Map<String, String> w1 = new HashMap<>();
    public final Map<Integer, Line> lines = new HashMap<>();

    @Override
    public I2cDevice i2c(int bus, int address) throws DriverException {
        I2cDevice d = i2c.get(address);
        if (d == null) throw new DriverException(String.format("no device answers at 0x%02x on /dev/i2c-%d", address, bus), false);
        if (d instanceof FakeI2cChip chip) chip.closed = false; // opened again
        return d;
    }

    @Override
    public GpioInput gpioInput(int pin, Pull pull, Duration debounce) {
        Line l = lines.computeIfAbsent(pin, Line::new);
        l.debounceNanos = debounce.toNanos();
        l.pull = pull;
        l.level = pull == Pull.UP; // an idle line sits at its bias
        return l;
    }

    @Override
    public GpioOutput gpioOutput(int pin, boolean initial) {
        Line l = lines.computeIfAbsent(pin, Line::new);
        l.level = initial;
        return l;
    }

    @Override
    public OneWire oneWire() {
        return id -> {
            String text = w1.get(id);
            if (text == null) throw new DriverException("1-Wire slave " + id + " is not on the bus", false);
            return text;
        };
    }

    /**
     * A GPIO line; as an input it debounces simply: an edge within the debounce period of the last one
     * is dropped. Pi4J 3's gpiod plugin instead reports the settled level once the line has been
     * quiet for the period ({@link #reportSettled}); that is checked on a real kernel by
     * test/system/pi-test.sh.
     */
    public static final class Line implements GpioInput, GpioOutput {
        final int pin;
        public volatile boolean level;
        public Pull pull;
        long debounceNanos, lastEdge = Long.MIN_VALUE / 2;
        final List<Consumer<Boolean>> listeners = new ArrayList<>();

        Line(int pin) {
            this.pin = pin;
        }

        /** The outside world drives the line to {@code high} at {@code nanos}. */
        public synchronized void drive(boolean high, long nanos) {
            if (high == level) return;
            level = high;
            if (nanos - lastEdge < debounceNanos) return;
            lastEdge = nanos;
            for (Consumer<Boolean> c : listeners) c.accept(high);
        }

        /**
         * The library reports the line's settled level without a change (Pi4J 3's gpiod plugin, which
         * debounces in user space, does so after a pulse shorter than the period).
         */
        public synchronized void reportSettled() {
            for (Consumer<Boolean> c : listeners) c.accept(level);
        }

        @Override
        public String describe() {
            return "gpiochip0 line " + pin;
        }

        @Override
        public boolean high() {
            return level;
        }

        @Override
        public synchronized void onEdge(Consumer<Boolean> onEdge) {
            listeners.add(onEdge);
        }

        @Override
        public void set(boolean high) {
            level = high;
        }

        @Override
        public void close() {}
    }
}
