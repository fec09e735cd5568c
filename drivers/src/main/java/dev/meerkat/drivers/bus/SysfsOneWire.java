package dev.meerkat.drivers.bus;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** 1-Wire through the kernel's sysfs files; {@code devices} is {@code /sys/bus/w1/devices} on a gateway. */
public final class SysfsOneWire implements OneWire {
    public static final Path DEVICES = Path.of("/sys/bus/w1/devices");
    private final Path devices;

    public SysfsOneWire(Path devices) {
        this.devices = devices;
    }

    @Override
    public String readSlave(String slaveId) throws DriverException {
        if (!Files.isDirectory(devices)) {
            throw new DriverException("no 1-Wire bus: " + devices + " is missing (add dtoverlay=w1-gpio to /boot/firmware/config.txt and reboot)", true);
        }
        Path f = devices.resolve(slaveId).resolve("w1_slave");
        try {
            return Files.readString(f, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new DriverException("1-Wire slave " + slaveId + " is not on the bus (" + f + " is missing): check its wiring and pull-up", false);
        } catch (AccessDeniedException e) {
            throw new DriverException("cannot read " + f + ": permission denied", true);
        } catch (IOException e) {
            throw new DriverException("reading " + f + ": " + e.getMessage(), false, e);
        }
    }
}
