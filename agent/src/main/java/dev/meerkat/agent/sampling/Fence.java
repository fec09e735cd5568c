package dev.meerkat.agent.sampling;

import dev.meerkat.coordination.locks.Hold;
import dev.meerkat.coordination.locks.LockException;
import dev.meerkat.drivers.bus.Buses;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.bus.GpioInput;
import dev.meerkat.drivers.bus.GpioOutput;
import dev.meerkat.drivers.bus.I2cDevice;
import dev.meerkat.drivers.bus.OneWire;
import dev.meerkat.drivers.bus.Pull;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The buses of one sensor with a {@code lock}, fenced: every bus transaction first checks that the
 * sensor's current hold is still valid ({@link Hold#check()}), so the hardware is not touched once
 * the agent cannot be sure it holds the lock, even in the middle of a driver's transaction.
 */
final class Fence {
    private volatile Hold hold;
    private final String lock;

    Fence(String lock) {
        this.lock = lock;
    }

    void hold(Hold h) {
        hold = h;
    }

    void check() throws DriverException {
        Hold h = hold;
        if (h == null) throw new DriverException("lock " + lock + " is not held", false);
        try {
            h.check();
        } catch (LockException e) {
            throw new DriverException(e.getMessage() + "; the hardware is left alone", false);
        }
    }

    Buses wrap(Buses b) {
        return new Buses() {
            @Override
            public I2cDevice i2c(int bus, int address) throws DriverException {
                check();
                I2cDevice d = b.i2c(bus, address);
                return new I2cDevice() {
                    @Override
                    public String describe() {
                        return d.describe();
                    }

                    @Override
                    public void write(byte... data) throws DriverException {
                        check();
                        d.write(data);
                    }

                    @Override
                    public void read(byte[] into) throws DriverException {
                        check();
                        d.read(into);
                    }

                    @Override
                    public void close() {
                        d.close();
                    }
                };
            }

            @Override
            public GpioInput gpioInput(int pin, Pull pull, Duration debounce) throws DriverException {
                check();
                GpioInput in = b.gpioInput(pin, pull, debounce);
                return new GpioInput() {
                    @Override
                    public String describe() {
                        return in.describe();
                    }

                    @Override
                    public boolean high() throws DriverException {
                        check();
                        return in.high();
                    }

                    @Override
                    public void onEdge(Consumer<Boolean> onEdge) {
                        in.onEdge(onEdge);
                    }

                    @Override
                    public void close() {
                        in.close();
                    }
                };
            }

            @Override
            public GpioOutput gpioOutput(int pin, boolean initial) throws DriverException {
                check();
                GpioOutput out = b.gpioOutput(pin, initial);
                return new GpioOutput() {
                    @Override
                    public String describe() {
                        return out.describe();
                    }

                    @Override
                    public void set(boolean high) throws DriverException {
                        check();
                        out.set(high);
                    }

                    @Override
                    public boolean high() throws DriverException {
                        check();
                        return out.high();
                    }

                    @Override
                    public void close() {
                        out.close();
                    }
                };
            }

            @Override
            public OneWire oneWire() throws DriverException {
                OneWire w = b.oneWire();
                return id -> {
                    check();
                    return w.readSlave(id);
                };
            }
        };
    }
}
