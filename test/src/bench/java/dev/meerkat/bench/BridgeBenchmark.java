package dev.meerkat.bench;

import dev.meerkat.agent.bridge.Outbox;
import dev.meerkat.agent.bridge.Reading;
import dev.meerkat.agent.journal.Journal;
import dev.meerkat.agent.mqtt.PahoTransport;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The durable MQTT bridge end to end: readings appended to the journal (group commit, fsync),
 * sent by the outbox through Paho to mosquitto at QoS 1, removed on the broker's acknowledgement.
 * Throughput is compared with raw Paho (no persistence) measured by the caller in the same run.
 */
final class BridgeBenchmark {
    private final String uri;
    private final Path dir;

    BridgeBenchmark(String uri, Path dir) {
        this.uri = uri;
        this.dir = dir;
    }

    private static Reading reading(long seq) {
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("temperature", 21.37);
        values.put("humidity", 40.1);
        values.put("pressure", 1013.2);
        Map<String, String> units = new LinkedHashMap<>();
        units.put("temperature", "Cel");
        units.put("humidity", "%RH");
        units.put("pressure", "hPa");
        return new Reading("gw-0042", "s1", seq, Instant.now(), values, units, OptionalLong.empty());
    }

    /** Everything through the bridge as fast as one sampling thread can append: readings/s until all acknowledged. */
    Map<String, Object> throughput(int messages) throws Exception {
        return throughput(messages, 1);
    }

    /** The same with {@code publish.batch.maxMessages = batch} (readings per MQTT message). */
    Map<String, Object> throughput(int messages, int batch) throws Exception {
        Path jdir = Files.createDirectories(dir.resolve("journal-" + System.nanoTime()));
        try (Journal journal = Journal.open(Journal.Options.of(jdir, 1L << 30, Duration.ofDays(1)), Clock.systemUTC());
             Outbox outbox = new Outbox(new PahoTransport(URI.create(uri), "bench-bridge-" + System.nanoTime(), 30), journal,
                     "bench/status", false, "bench", Clock.systemUTC(), () -> {})) {
            outbox.batching(batch, Duration.ZERO);
            outbox.start();
            long t0 = System.nanoTime();
            for (int i = 0; i < messages; i++) {
                long seq = journal.nextSeq("s1");
                outbox.offer(reading(seq), "bench/bridge/s1", 1);
            }
            if (!outbox.flush(Duration.ofMinutes(5))) throw new IllegalStateException("bridge did not drain");
            double seconds = (System.nanoTime() - t0) / 1e9;
            Journal.Counters c = journal.counters();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("readings", messages);
            m.put("batch", batch);
            m.put("msgs_per_s", Math.round(messages / seconds));
            m.put("fsyncs", c.fsyncs());
            m.put("fsyncs_per_s", Math.round(c.fsyncs() / seconds));
            m.put("write_amplification", Stats.round((double) c.bytesWritten() / c.payloadBytes()));
            m.put("sent", outbox.sent());
            return m;
        }
    }

    /** Readings at a steady {@code perSecond} for {@code seconds}: time from the sample to the broker's acknowledgement. */
    Map<String, Object> latency(int perSecond, int seconds) throws Exception {
        Path jdir = Files.createDirectories(dir.resolve("journal-" + System.nanoTime()));
        int n = perSecond * seconds;
        long[] appendedAt = new long[n + 2];
        Stats stats = new Stats();
        try (Journal journal = Journal.open(Journal.Options.of(jdir, 1L << 30, Duration.ofDays(1)), Clock.systemUTC());
             Outbox outbox = new Outbox(new PahoTransport(URI.create(uri), "bench-bridge-" + System.nanoTime(), 30), journal,
                     "bench/status", false, "bench", Clock.systemUTC(), () -> {})) {
            outbox.start();
            Thread.sleep(500); // connected
            long[] ids = new long[n];
            Thread poller = Thread.ofPlatform().start(() -> {
                int next = 0;
                while (next < n) {
                    long acked = journal.ackedId();
                    long now = System.nanoTime();
                    while (next < n && ids[next] != 0 && ids[next] <= acked) {
                        stats.add(now - appendedAt[next]);
                        next++;
                    }
                    LockSupport.parkNanos(20_000);
                }
            });
            long period = 1_000_000_000L / perSecond, start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                long due = start + i * period;
                while (System.nanoTime() < due) LockSupport.parkNanos(Math.max(1, due - System.nanoTime()));
                long seq = journal.nextSeq("s1");
                appendedAt[i] = System.nanoTime();
                outbox.offer(reading(seq), "bench/bridge/s1", 1);
                ids[i] = journal.lastId();
            }
            poller.join(60_000);
            Journal.Counters c = journal.counters();
            Map<String, Object> m = stats.summary();
            m.put("per_s", perSecond);
            m.put("fsyncs_per_s", Math.round(c.fsyncs() / (double) seconds));
            m.put("write_amplification", Stats.round((double) c.bytesWritten() / c.payloadBytes()));
            return m;
        }
    }
}
