package dev.meerkat.bench;

import dev.meerkat.test.fixtures.MosquittoBroker;
import dev.meerkat.test.fixtures.ProcessEnsemble;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one reading costs the card (issue 24): one agent through the launcher, 10 simulated
 * sensors, its state directory on a file system of its own ({@link LoopDisk}); over a window, the
 * bytes the agent caused to be written ({@code /proc/PID/io} {@code write_bytes}, counted when a
 * page is dirtied) and the bytes the block device wrote (the file system's journal and metadata
 * included), beside the payload bytes the broker delivered to a subscriber, per reading and per
 * day. Cases: 1 Hz and 10 Hz a sensor (10 and 100 readings a second), with the default durability
 * and with a window chosen in the agent settings.
 */
final class FlashBenchmark {
    private static final int SENSORS = 10;

    /** Every reading forced to the card before it is sent, as before issue 24. */
    static final String SYNC_0 = "{\"buffer\": {\"syncInterval\": \"0ms\"}}";
    static final String WINDOW_1S = "{\"buffer\": {\"syncInterval\": \"1s\"}}";

    /** One measured configuration: the sensors' interval and the fleet's agent document (null: none). */
    record Case(String name, String interval, String agentDoc) {}

    static final List<Case> CASES = List.of(
            new Case("1hz_sync_before_send", "1s", SYNC_0),
            new Case("1hz_default", "1s", null),
            new Case("1hz_window_1s", "1s", WINDOW_1S),
            new Case("10hz_sync_before_send", "100ms", SYNC_0),
            new Case("10hz_default", "100ms", null),
            new Case("10hz_window_1s", "100ms", WINDOW_1S));

    private final ProcessEnsemble ensemble;
    private final MosquittoBroker broker;
    private final Path dir;

    FlashBenchmark(ProcessEnsemble ensemble, MosquittoBroker broker, Path dir) {
        this.ensemble = ensemble;
        this.broker = broker;
        this.dir = dir;
    }

    Map<String, Object> run(Duration settle, Duration window) throws Exception {
        Path work = Files.createDirectories(dir.resolve("flash-" + System.nanoTime() % 100000));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sensors", SENSORS);
        m.put("settle_s", settle.toSeconds());
        m.put("window_s", window.toSeconds());
        for (Case c : CASES) {
            Map<String, Object> r = measure(work.resolve(c.name()), c, settle, window);
            m.put(c.name(), r);
            Benchmarks.log("flash: " + c.name() + " " + r);
        }
        return m;
    }

    private Map<String, Object> measure(Path work, Case c, Duration settle, Duration window) throws Exception {
        Files.createDirectories(work);
        Map<String, Object> r = new LinkedHashMap<>();
        LoopDisk disk = null;
        try {
            disk = LoopDisk.open(work, 256);
            r.put("file_system", "ext4 on a loop device, defaults (data=ordered)");
        } catch (IOException e) {
            r.put("file_system", "the work directory's own (no loop device: " + e.getMessage() + "); device bytes not measured");
        }
        try {
            Path state = disk == null ? work.resolve("state") : disk.mount.resolve("state");
            run(work, state, c, settle, window, disk, r);
        } finally {
            if (disk != null) disk.close();
        }
        return r;
    }

    private void run(Path work, Path state, Case c, Duration settle, Duration window, LoopDisk disk, Map<String, Object> r) throws Exception {
        try (OneAgent agent = OneAgent.start(ensemble, broker, work, "flash", SENSORS, c.interval(), c.agentDoc(), state)) {
            Thread.sleep(settle.toMillis());
            if (disk != null) disk.sync();
            long pid = agent.process.pid();
            long w0 = writeBytes(pid), d0 = disk == null ? 0 : disk.bytesWritten();
            long n0 = agent.readings(), p0 = agent.payloadBytes(), t0 = System.nanoTime();
            Thread.sleep(window.toMillis());
            if (disk != null) disk.sync(); // what the window dirtied is written now, not after it
            long w1 = writeBytes(pid), d1 = disk == null ? 0 : disk.bytesWritten();
            long n = agent.readings() - n0, p = agent.payloadBytes() - p0;
            double secs = (System.nanoTime() - t0) / 1e9;
            r.put("window_s", Stats.round(secs));
            r.put("readings_delivered", n);
            r.put("payload_bytes", p);
            r.put("payload_bytes_per_reading", Stats.round((double) p / Math.max(1, n)));
            put(r, "process", w1 - w0, n, p, secs);
            if (disk != null) put(r, "device", d1 - d0, n, p, secs);
            r.put("exit", agent.stop());
        }
    }

    /** {@code what}'s bytes over the window: in all, per reading, against the payload, per day. */
    private static void put(Map<String, Object> r, String what, long bytes, long readings, long payload, double secs) {
        r.put(what + "_bytes", bytes);
        r.put(what + "_bytes_per_reading", Stats.round((double) bytes / Math.max(1, readings)));
        r.put(what + "_x_payload", Stats.round((double) bytes / Math.max(1, payload)));
        r.put(what + "_mib_per_day", Stats.round(bytes / secs * 86_400 / (1 << 20)));
    }

    /** The bytes process {@code pid} caused to be written to storage ({@code /proc/PID/io}). */
    static long writeBytes(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
            if (line.startsWith("write_bytes:")) return Long.parseLong(line.substring(12).trim());
        }
        throw new IOException("no write_bytes in /proc/" + pid + "/io");
    }
}
