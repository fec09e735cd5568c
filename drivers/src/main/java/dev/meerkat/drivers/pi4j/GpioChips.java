package dev.meerkat.drivers.pi4j;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Which GPIO chip a sensor's {@code {"gpio": N}} line is on: the Raspberry Pi's header chip, found
 * as Pi4J's gpiod plugin finds it, the first chip (in libgpiod's alphabetical order of names) whose
 * label contains {@code pinctrl}: {@code pinctrl-bcm2835} on a Pi 3 or Zero 2, {@code
 * pinctrl-bcm2711} on a Pi 4, {@code pinctrl-rp1} on a Pi 5 (there {@code gpiochip0} from kernel
 * 6.6.45, {@code gpiochip4} before). The agent hands Pi4J that chip by name, and it, its checks and
 * {@code meerkat doctor} name the chip Pi4J really uses. A chip's label is the kernel's answer to
 * {@code GPIO_GET_CHIPINFO_IOCTL} on its device node, as libgpiod asks it (sysfs has no label for
 * the character device).
 */
public final class GpioChips {
    /** The board's name in the device tree (NUL-terminated). */
    public static final Path MODEL = Path.of("/proc/device-tree/model");

    /** A chip's label, from its device node. */
    @FunctionalInterface
    public interface Labels {
        String label(Path node) throws IOException;
    }

    /** The kernel's: {@code GPIO_GET_CHIPINFO_IOCTL}. */
    public static final Labels KERNEL = GpioChips::chipInfoLabel;

    /**
     * What was found: the header chip's name (null if none), every chip with its label for
     * messages, and the first chip whose node could not be opened (null if none).
     */
    public record Found(String header, List<String> chips, String unreadable) {
        public String describe() {
            return chips.isEmpty() ? "none" : String.join(", ", chips);
        }
    }

    private GpioChips() {}

    public static Found find(Path dev, Labels labels) {
        String header = null, unreadable = null;
        List<String> described = new ArrayList<>();
        for (String chip : chips(dev)) {
            try {
                String label = labels.label(dev.resolve(chip));
                described.add(chip + " (" + label + ")");
                if (header == null && label.contains("pinctrl")) header = chip;
            } catch (IOException e) {
                described.add(chip + " (not readable: " + e.getMessage() + ")");
                if (unreadable == null) unreadable = chip;
            }
        }
        return new Found(header, described, unreadable);
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

    /** The chips' device nodes in libgpiod's order (alphabetical: gpiochip10 before gpiochip2). */
    static List<String> chips(Path dev) {
        try (Stream<Path> s = Files.list(dev)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.matches("gpiochip[0-9]+")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    interface LibC extends Library {
        int open(String path, int flags);

        int ioctl(int fd, NativeLong request, byte[] info);

        int close(int fd);
    }

    private static final int O_RDONLY_CLOEXEC = 0x80000;
    /** {@code _IOR(0xB4, 0x01, struct gpiochip_info)}: name[32], label[32], lines (u32); 68 bytes. */
    private static final long GPIO_GET_CHIPINFO_IOCTL = 0x8044B401L;
    private static volatile LibC libc;

    private static String chipInfoLabel(Path node) throws IOException {
        LibC c = libc;
        try {
            if (c == null) libc = c = Native.load("c", LibC.class);
        } catch (UnsatisfiedLinkError e) {
            throw new IOException("no C library to ask the kernel with (" + e.getMessage() + ")", e);
        }
        int fd = c.open(node.toString(), O_RDONLY_CLOEXEC);
        if (fd < 0) throw new IOException(errno("open"));
        try {
            byte[] info = new byte[68];
            if (c.ioctl(fd, new NativeLong(GPIO_GET_CHIPINFO_IOCTL), info) < 0) throw new IOException(errno("GPIO_GET_CHIPINFO_IOCTL"));
            int end = 32;
            while (end < 64 && info[end] != 0) end++;
            return new String(info, 32, end - 32, StandardCharsets.UTF_8);
        } finally {
            c.close(fd);
        }
    }

    private static String errno(String call) {
        int e = Native.getLastError();
        return call + " failed: " + switch (e) {
            case 1, 13 -> "permission denied";
            case 2 -> "no such file";
            case 25 -> "not a GPIO chip";
            default -> "errno " + e;
        };
    }
}
