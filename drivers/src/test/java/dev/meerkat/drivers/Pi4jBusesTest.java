package dev.meerkat.drivers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.bus.Pull;
import dev.meerkat.drivers.bus.SysfsOneWire;
import dev.meerkat.drivers.pi4j.GpioChips;
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
        }
        DriverException e = assertThrows(DriverException.class, () -> new SysfsOneWire(dev.resolve("w1")).readSlave("28-000000000001"));
        assertTrue(e.getMessage().contains("dtoverlay=w1-gpio"), e.getMessage());
        Files.createDirectories(dev.resolve("w1/28-000000000001"));
        Files.writeString(dev.resolve("w1/28-000000000001/w1_slave"), "x");
        assertTrue(new SysfsOneWire(dev.resolve("w1")).readSlave("28-000000000001").equals("x"));
    }

    static Path chip(Path sysfs, String name, String label) throws Exception {
        Files.createDirectories(sysfs.resolve(name));
        Files.writeString(sysfs.resolve(name).resolve("label"), label + "\n");
        return sysfs;
    }

    @Test
    void gpioIsOnTheHeadersChipAsPi4jChoosesIt(@TempDir Path dir) throws Exception {
        Path dev = Files.createDirectories(dir.resolve("dev")), sysfs = dir.resolve("sys");
        // A Pi 5 before kernel 6.6.45: the header (RP1) is gpiochip4, after the SoC's own chips.
        chip(sysfs, "gpiochip0", "gpio-brcmstb@107d508500");
        chip(sysfs, "gpiochip1", "gpio-brcmstb@107d508520");
        chip(sysfs, "gpiochip4", "pinctrl-rp1");
        assertEquals("gpiochip4", GpioChips.header(sysfs).orElseThrow());
        try (Pi4jBuses buses = new Pi4jBuses(dev, sysfs, dir.resolve("model"), () -> true)) {
            DriverException e = assertThrows(DriverException.class, () -> buses.gpioInput(17, Pull.UP, Duration.ZERO));
            assertTrue(e.permanent());
            assertTrue(e.getMessage().contains("gpiochip4") && e.getMessage().contains("no GPIO character device"), e.getMessage());
        }
        // libgpiod's order is by name: gpiochip10 comes before gpiochip4, as Pi4J sees them.
        chip(sysfs, "gpiochip10", "pinctrl-other");
        assertEquals("gpiochip10", GpioChips.header(sysfs).orElseThrow());
    }

    @Test
    void noHeaderChipOrNotAPiSaySo(@TempDir Path dir) throws Exception {
        Path dev = Files.createDirectories(dir.resolve("dev")), sysfs = chip(dir.resolve("sys"), "gpiochip0", "9030000.pl061");
        Files.writeString(dir.resolve("model"), "linux,dummy-virt\0");
        try (Pi4jBuses buses = new Pi4jBuses(dev, sysfs, dir.resolve("model"), () -> true)) {
            DriverException e = assertThrows(DriverException.class, () -> buses.gpioOutput(27, false));
            assertTrue(e.permanent());
            assertTrue(e.getMessage().contains("pinctrl") && e.getMessage().contains("gpiochip0 (9030000.pl061)"), e.getMessage());
        }
        try (Pi4jBuses buses = new Pi4jBuses(dev, sysfs, dir.resolve("model"), () -> false)) {
            DriverException e = assertThrows(DriverException.class, () -> buses.gpioInput(5, Pull.NONE, Duration.ZERO));
            assertTrue(e.permanent());
            assertTrue(e.getMessage().contains("Raspberry Pi boards only") && e.getMessage().contains("linux,dummy-virt"), e.getMessage());
        }
        assertEquals("none", GpioChips.describe(dir.resolve("nothing")));
    }
}
