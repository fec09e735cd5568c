package dev.meerkat.drivers.bus;

import java.time.Duration;

/**
 * Where drivers get their buses. The agent's is backed by Pi4J ({@code pi4j-plugin-linuxfs} for
 * I2C, {@code pi4j-plugin-gpiod} for GPIO) and the kernel's sysfs for 1-Wire; tests hand fake
 * chips. The agent wraps each sensor's buses so that every transaction first checks the sensor's
 * lock (SPEC §6).
 */
public interface Buses {
    I2cDevice i2c(int bus, int address) throws DriverException;

    GpioInput gpioInput(int pin, Pull pull, Duration debounce) throws DriverException;

    GpioOutput gpioOutput(int pin, boolean initial) throws DriverException;

    OneWire oneWire() throws DriverException;

    /** Buses for sensors with no hardware ({@code simulated}): every call fails. */
    Buses NONE = new Buses() {
        @Override
        public I2cDevice i2c(int bus, int address) throws DriverException {
            throw new DriverException("no I2C buses here", true);
        }

        @Override
        public GpioInput gpioInput(int pin, Pull pull, Duration debounce) throws DriverException {
            throw new DriverException("no GPIO here", true);
        }

        @Override
        public GpioOutput gpioOutput(int pin, boolean initial) throws DriverException {
            throw new DriverException("no GPIO here", true);
        }

        @Override
        public OneWire oneWire() throws DriverException {
            throw new DriverException("no 1-Wire bus here", true);
        }
    };
}
