package dev.meerkat.drivers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.bus.Pull;
import dev.meerkat.drivers.bus.SysfsOneWire;
import dev.meerkat.drivers.pi4j.Pi4jBuses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator reads when a bus is missing: no hardware here, so only the checks before Pi4J. */
class Pi4jBusesTest {
    @Test
    void aMissingBusSaysHowToEnableIt(@TempDir Path dev) throws Exception {
        try (Pi4jBuses buses = new Pi4jBuses(dev)) {
            DriverException e = assertThrows(DriverException.class, () -> buses.i2c(1, 0x76));
            assertTrue(e.permanent());
            assertTrue(e.getMessage().contains("i2c-1") && e.getMessage().contains("dtparam=i2c_arm=on"), e.getMessage());
            e = assertThrows(DriverException.class, () -> buses.gpioInput(17, Pull.UP, Duration.ZERO));
            assertTrue(e.getMessage().contains("gpiochip0"), e.getMessage());
        }
        DriverException e = assertThrows(DriverException.class, () -> new SysfsOneWire(dev.resolve("w1")).readSlave("28-000000000001"));
        assertTrue(e.getMessage().contains("dtoverlay=w1-gpio"), e.getMessage());
        Files.createDirectories(dev.resolve("w1/28-000000000001"));
        Files.writeString(dev.resolve("w1/28-000000000001/w1_slave"), "x");
        assertTrue(new SysfsOneWire(dev.resolve("w1")).readSlave("28-000000000001").equals("x"));
    }
}
