package dev.meerkat.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CPU time by thread kind, from {@code /proc} (Linux): this JVM's threads grouped by name (Paho's
 * receiver, sender and callback threads, the bridge's sender and journal, the JIT compilers, the
 * collector, the rest) and the mosquitto broker this JVM started. A snapshot before and after a
 * run gives where its CPU went; taken before a client closes, as its threads end with it.
 */
final class ThreadCpu {
    private static final long TICK_NS = 1_000_000_000L / 100; // USER_HZ, 100 on Linux

    private ThreadCpu() {}

    /** CPU nanoseconds so far, by kind. Empty where there is no {@code /proc}. */
    static Map<String, Long> snapshot() {
        Map<String, Long> m = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                String[] stat = stat(t.resolve("stat"));
                if (stat != null) m.merge(kind(stat[0]), ticks(stat), Long::sum);
            }
        } catch (IOException e) {
            return m;
        }
        ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("").endsWith("mosquitto")).forEach(p -> {
            String[] stat = stat(Path.of("/proc/" + p.pid() + "/stat"));
            if (stat != null) m.merge("mosquitto", ticks(stat), Long::sum);
        });
        return m;
    }

    /** What {@code after} adds to {@code before}, per message, in microseconds, the largest first. */
    static Map<String, Object> perMessage(Map<String, Long> before, Map<String, Long> after, long messages) {
        Map<String, Object> out = new LinkedHashMap<>();
        after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> out.put(e.getKey(), Stats.round(e.getValue() / 1000.0 / messages)));
        return out;
    }

    private static String kind(String name) {
        if (name.startsWith("MQTT Rec")) return "paho-receiver";
        if (name.startsWith("MQTT Snd")) return "paho-sender";
        if (name.startsWith("MQTT Call")) return "paho-callback";
        if (name.startsWith("MQTT")) return "paho-other";
        if (name.startsWith("meerkat-")) return name;
        if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) return "jit";
        if (name.startsWith("GC ") || name.startsWith("G1 ")) return "gc";
        if (name.equals("java") || name.equals("main")) return "main";
        return "other";
    }

    /** {comm, utime, stime} of a {@code stat} file, or null when the task has ended. */
    private static String[] stat(Path file) {
        try {
            String s = Files.readString(file);
            String comm = s.substring(s.indexOf('(') + 1, s.lastIndexOf(')'));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return new String[] {comm, f[11], f[12]};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long ticks(String[] stat) {
        return (Long.parseLong(stat[1]) + Long.parseLong(stat[2])) * TICK_NS;
    }
}
