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

    /** Labels as the kernel would give them; a chip missing from the map cannot be opened. */
    static GpioChips.Labels labels(java.util.Map<String, String> byChip) {
        return node -> {
            String l = byChip.get(node.getFileName().toString());
            if (l == null) throw new java.io.IOException("open failed: permission denied");
            return l;
        };
    }

    @Test
    void gpioIsOnTheHeadersChipAsPi4jChoosesIt(@TempDir Path dir) throws Exception {
        Path dev = Files.createDirectories(dir.resolve("dev"));
        // A Pi 5 before kernel 6.6.45: the header (RP1) is gpiochip4, after the SoC's own chips. No nodes yet.
        var pi5 = labels(java.util.Map.of("gpiochip0", "gpio-brcmstb@107d508500", "gpiochip1", "gpio-brcmstb@107d508520", "gpiochip4", "pinctrl-rp1",
                "gpiochip10", "pinctrl-other"));
        for (String n : new String[] {"gpiochip0", "gpiochip1", "gpiochip4"}) Files.createFile(dev.resolve(n));
        assertEquals("gpiochip4", GpioChips.find(dev, pi5).header());
        // libgpiod's order is by name: gpiochip10 comes before gpiochip4, as Pi4J sees them.
        Files.createFile(dev.resolve("gpiochip10"));
        assertEquals("gpiochip10", GpioChips.find(dev, pi5).header());
        // A chip whose node may not be opened hides its label; the message names it and why.
        Files.delete(dev.resolve("gpiochip10"));
        var hidden = labels(java.util.Map.of("gpiochip0", "gpio-brcmstb@107d508500", "gpiochip1", "gpio-brcmstb@107d508520"));
        try (Pi4jBuses buses = new Pi4jBuses(dev, dir.resolve("model"), () -> true, hidden)) {
            DriverException e = assertThrows(DriverException.class, () -> buses.gpioInput(17, Pull.UP, Duration.ZERO));
            assertTrue(e.permanent());
            assertTrue(e.getMessage().contains("gpiochip4") && e.getMessage().contains("permission denied"), e.getMessage());
        }
    }

    @Test
    void noHeaderChipOrNotAPiSaySo(@TempDir Path dir) throws Exception {
        Path dev = Files.createDirectories(dir.resolve("dev"));
        Files.createFile(dev.resolve("gpiochip0"));
        Files.writeString(dir.resolve("model"), "linux,dummy-virt\0");
        var virt = labels(java.util.Map.of("gpiochip0", "9030000.pl061"));
        try (Pi4jBuses buses = new Pi4jBuses(dev, dir.resolve("model"), () -> true, virt)) {
            DriverException e = assertThrows(DriverException.class, () -> buses.gpioOutput(27, false));
            assertTrue(e.permanent());
            assertTrue(e.getMessage().contains("pinctrl") && e.getMessage().contains("gpiochip0 (9030000.pl061)"), e.getMessage());
        }
        try (Pi4jBuses buses = new Pi4jBuses(dev, dir.resolve("model"), () -> false, virt)) {
            DriverException e = assertThrows(DriverException.class, () -> buses.gpioInput(5, Pull.NONE, Duration.ZERO));
            assertTrue(e.permanent());
            assertTrue(e.getMessage().contains("Raspberry Pi boards only") && e.getMessage().contains("linux,dummy-virt"), e.getMessage());
        }
        // No GPIO character device at all.
        Files.delete(dev.resolve("gpiochip0"));
        try (Pi4jBuses buses = new Pi4jBuses(dev, dir.resolve("model"), () -> true, virt)) {
            DriverException e = assertThrows(DriverException.class, () -> buses.gpioInput(5, Pull.NONE, Duration.ZERO));
            assertTrue(e.getMessage().contains("gpiochip0") && e.getMessage().contains("no GPIO character device"), e.getMessage());
        }
        assertEquals("none", GpioChips.find(dir.resolve("nothing"), virt).describe());
    }

    @Test
    void theKernelsLabelOfANodeThatIsNoChipIsAnError(@TempDir Path dir) throws Exception {
        Path notAChip = Files.writeString(dir.resolve("gpiochip0"), "x");
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> GpioChips.KERNEL.label(notAChip));
        assertTrue(e.getMessage().contains("GPIO_GET_CHIPINFO_IOCTL"), e.getMessage());
    }
}
