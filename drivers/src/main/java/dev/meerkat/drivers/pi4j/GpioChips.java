package dev.meerkat.drivers.pi4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Which GPIO chip a sensor's {@code {"gpio": N}} line is on: the Raspberry Pi's header chip, found
 * as Pi4J's gpiod plugin finds it (the first chip, in libgpiod's alphabetical order of names, whose
 * label contains {@code pinctrl}: {@code pinctrl-bcm2835} on a Pi 3 or Zero 2, {@code
 * pinctrl-bcm2711} on a Pi 4, {@code pinctrl-rp1} on a Pi 5, which is {@code gpiochip0} from
 * kernel 6.6.45 and {@code gpiochip4} before), read from sysfs so that the agent, its checks and
 * {@code meerkat doctor} name the chip Pi4J will really use, and hand Pi4J that name.
 */
public final class GpioChips {
    /** Where the kernel lists the GPIO chips, each with its {@code label}. */
    public static final Path SYSFS = Path.of("/sys/bus/gpio/devices");
    /** The board's name in the device tree (NUL-terminated). */
    public static final Path MODEL = Path.of("/proc/device-tree/model");

    private GpioChips() {}

    /** The header chip's name ({@code gpiochip0}), if there is one. */
    public static Optional<String> header(Path sysfs) {
        for (String chip : chips(sysfs)) {
            if (label(sysfs, chip).contains("pinctrl")) return Optional.of(chip);
        }
        return Optional.empty();
    }

    /** Every chip with its label, for a message: {@code gpiochip0 (9030000.pl061)}; "none" when there is none. */
    public static String describe(Path sysfs) {
        List<String> out = new ArrayList<>();
        for (String chip : chips(sysfs)) out.add(chip + " (" + label(sysfs, chip) + ")");
        return out.isEmpty() ? "none" : String.join(", ", out);
    }

    /** The board's model from the device tree, or "unknown". */
    public static String model(Path model) {
        try {
            String m = new String(Files.readAllBytes(model), StandardCharsets.UTF_8).replace("\0", "").trim();
            return m.isEmpty() ? "unknown" : m;
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The chips' names in libgpiod's order (alphabetical: gpiochip10 before gpiochip2). */
    static List<String> chips(Path sysfs) {
        try (Stream<Path> s = Files.list(sysfs)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.matches("gpiochip[0-9]+")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String label(Path sysfs, String chip) {
        try {
            return Files.readString(sysfs.resolve(chip).resolve("label"), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        }
    }
}
