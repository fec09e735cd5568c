package dev.meerkat.agent;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** What this machine is, for the member znode (SPEC §5): host name, addresses, buses present. */
final class HostFacts {
    private HostFacts() {}

    static String hostName() {
        String h = dev.meerkat.config.BootstrapConfig.hostname();
        return h.isEmpty() ? "unknown" : h;
    }

    static List<String> addresses() {
        List<String> out = new ArrayList<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp() || ni.isLoopback()) continue;
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (!a.isLinkLocalAddress()) out.add(a.getHostAddress());
                }
            }
        } catch (SocketException e) {
            // no interfaces to report
        }
        return out;
    }

    /** {@code i2c-N} per I2C bus device, {@code gpio} when a GPIO chip exists, {@code w1} when 1-Wire is loaded. */
    static List<String> capabilities() {
        List<String> caps = new ArrayList<>();
        boolean gpio = false;
        try (DirectoryStream<Path> dev = Files.newDirectoryStream(Path.of("/dev"))) {
            for (Path p : dev) {
                String n = p.getFileName().toString();
                if (n.matches("i2c-[0-9]+")) caps.add(n);
                if (n.startsWith("gpiochip")) gpio = true;
            }
        } catch (IOException e) {
            // no /dev: no buses
        }
        Collections.sort(caps);
        if (gpio) caps.add("gpio");
        if (Files.isDirectory(Path.of("/sys/bus/w1/devices"))) caps.add("w1");
        return caps;
    }
}
