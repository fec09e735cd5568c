package dev.meerkat.bench;

import dev.meerkat.agent.bridge.Bridge;
import dev.meerkat.agent.bridge.Outbox;
import dev.meerkat.agent.bridge.Reading;
import dev.meerkat.agent.journal.Journal;
import dev.meerkat.agent.mqtt.PahoTransport;
import dev.meerkat.agent.sparkplug.SparkplugBridge;
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
        return reading("s1", seq);
    }

    private static Reading reading(String sensor, long seq) {
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("temperature", 21.37);
        values.put("humidity", 40.1);
        values.put("pressure", 1013.2);
        Map<String, String> units = new LinkedHashMap<>();
        units.put("temperature", "Cel");
        units.put("humidity", "%RH");
        units.put("pressure", "hPa");
        return new Reading("gw-0042", sensor, seq, Instant.now(), values, units, OptionalLong.empty());
    }

    /** Everything through the bridge as fast as one sampling thread can append: readings/s until all acknowledged. */
    Map<String, Object> throughput(int messages) throws Exception {
        return throughput(messages, 1);
    }

    /** The same with {@code publish.batch.maxMessages = batch} (readings per MQTT message). */
    Map<String, Object> throughput(int messages, int batch) throws Exception {
        return throughput(messages, batch, "json");
    }

    /**
     * The bridge of {@code format} ({@code publish.format}): the JSON outbox (QoS 1, a reading leaves
     * the journal on its PUBACK) or the Sparkplug B edge node (QoS 0, on being written to the connection).
     */
    private Bridge bridge(Journal journal, String format) throws Exception {
        PahoTransport transport = new PahoTransport(URI.create(uri), "bench-bridge-" + System.nanoTime(), 30);
        if (format.equals("sparkplug-b")) {
            Map<String, String> q = reading(1).units();
            return new SparkplugBridge(transport, journal, "bench", "gw-" + System.nanoTime(), Files.createDirectories(dir.resolve("sparkplug-state")), "",
                    () -> Map.of("s1", q), Clock.systemUTC(), dev.meerkat.time.Ticker.SYSTEM, () -> {});
        }
        return new Outbox(transport, journal, "bench/status", false, "bench", Clock.systemUTC(), () -> {});
    }

    /** Readings/s through the bridge of {@code format}, until all have left the journal. */
    Map<String, Object> throughput(int messages, int batch, String format) throws Exception {
        Path jdir = Files.createDirectories(dir.resolve("journal-" + System.nanoTime()));
        try (Journal journal = Journal.open(Journal.Options.of(jdir, 1L << 30, Duration.ofDays(1)), Clock.systemUTC());
             Bridge outbox = bridge(journal, format)) {
            outbox.batching(batch, Duration.ZERO);
            outbox.start();
            // Timed from the connection, as raw Paho is (it connects before its clock starts): a connect
            // takes about 300 ms here, a fifth of a run (seen with JFR; it was in the bridge's time until 2026-11-22).
            awaitConnected(outbox);
            Map<String, Long> cpu = ThreadCpu.snapshot();
            long t0 = System.nanoTime();
            for (int i = 0; i < messages; i++) {
                long seq = journal.nextSeq("s1");
                outbox.offer(reading(seq), "bench/bridge/s1", 1);
            }
            if (!outbox.flush(Duration.ofMinutes(5))) throw new IllegalStateException("bridge did not drain");
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> cpuPerMessage = ThreadCpu.perMessage(cpu, ThreadCpu.snapshot(), messages);
            Journal.Counters c = journal.counters();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("readings", messages);
            m.put("batch", batch);
            m.put("msgs_per_s", Math.round(messages / seconds));
            m.put("fsyncs", c.fsyncs());
            m.put("fsyncs_per_s", Math.round(c.fsyncs() / seconds));
            m.put("write_amplification", Stats.round((double) c.bytesWritten() / c.payloadBytes()));
            m.put("sent", outbox.sent());
            m.put("cpu_us_per_msg", cpuPerMessage);
            return m;
        }
    }

    private static void awaitConnected(Bridge outbox) {
        long connecting = System.nanoTime();
        while (!outbox.connected()) {
            if (System.nanoTime() - connecting > Duration.ofSeconds(30).toNanos()) throw new IllegalStateException("not connected");
            LockSupport.parkNanos(100_000);
        }
    }

    /** Readings at a steady {@code perSecond} for {@code seconds}: time from the sample to the broker's acknowledgement. */
    Map<String, Object> latency(int perSecond, int seconds) throws Exception {
        return latency(perSecond, seconds, "json");
    }

    /** The same through the bridge of {@code format}: for Sparkplug B (QoS 0), to the reading's being written to the connection. */
    Map<String, Object> latency(int perSecond, int seconds, String format) throws Exception {
        Path jdir = Files.createDirectories(dir.resolve("journal-" + System.nanoTime()));
        int n = perSecond * seconds;
        long[] appendedAt = new long[n + 2];
        Stats stats = new Stats();
        try (Journal journal = Journal.open(Journal.Options.of(jdir, 1L << 30, Duration.ofDays(1)), Clock.systemUTC());
             Bridge outbox = bridge(journal, format)) {
            outbox.start();
            awaitConnected(outbox);
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

    /**
     * Replay after an outage: {@code backlog} readings of one sensor wait in the journal when the
     * sender connects, while a second sensor samples {@code livePerSecond}. Reports the replay's
     * readings/s and, for the live readings sampled before the backlog has drained, the time from
     * the sample to the broker's acknowledgement (polled every 100 µs).
     */
    Map<String, Object> replay(int backlog, int livePerSecond) throws Exception {
        Path jdir = Files.createDirectories(dir.resolve("journal-" + System.nanoTime()));
        try (Journal journal = Journal.open(Journal.Options.of(jdir, 1L << 30, Duration.ofDays(1)), Clock.systemUTC())) {
            for (int i = 0; i < backlog; i++) {
                Reading r = reading("backlog", journal.nextSeq("backlog"));
                journal.append("backlog", r.seq(), r.ts().toEpochMilli(), "bench/bridge/backlog", 1, r.payload());
            }
            while (journal.committedId() < journal.lastId()) journal.awaitCommitted(journal.committedId(), Duration.ofSeconds(1));
            try (Outbox outbox = new Outbox(new PahoTransport(URI.create(uri), "bench-replay-" + System.nanoTime(), 30), journal,
                    "bench/status", false, "bench", Clock.systemUTC(), () -> {})) {
                int most = livePerSecond * 600;
                long[] ids = new long[most], at = new long[most];
                java.util.concurrent.atomic.AtomicInteger taken = new java.util.concurrent.atomic.AtomicInteger();
                java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
                outbox.start();
                // From the moment it is connected: an outage ends, and the backlog starts to go.
                awaitConnected(outbox);
                long t0 = System.nanoTime();
                Thread live = Thread.ofPlatform().start(() -> {
                    long period = 1_000_000_000L / livePerSecond;
                    for (int i = 0; i < most && !stop.get(); i++) {
                        long due = t0 + i * period;
                        while (System.nanoTime() < due) LockSupport.parkNanos(Math.max(1, due - System.nanoTime()));
                        at[i] = System.nanoTime();
                        ids[i] = journal.append("live", journal.nextSeq("live"), System.currentTimeMillis(), "bench/bridge/live", 1,
                                reading("live", i + 1).payload());
                        taken.set(i + 1);
                    }
                });
                Stats stats = new Stats();
                long drained = 0;
                int next = 0;
                while (drained == 0 || next < taken.get()) {
                    if (System.nanoTime() - t0 > Duration.ofMinutes(5).toNanos()) throw new IllegalStateException("replay did not drain");
                    long now = System.nanoTime();
                    long backlogFirst = Long.MAX_VALUE, liveFirst = Long.MAX_VALUE;
                    for (Journal.Waiting w : journal.waiting()) {
                        if (w.sensor().equals("backlog")) backlogFirst = w.firstId();
                        if (w.sensor().equals("live")) liveFirst = w.firstId();
                    }
                    int n = taken.get();
                    while (next < n && ids[next] < liveFirst) {
                        if (drained == 0) stats.add(now - at[next]); // sampled and acknowledged while the backlog drains
                        next++;
                    }
                    if (drained == 0 && backlogFirst == Long.MAX_VALUE) {
                        drained = now;
                        stop.set(true);
                    }
                    LockSupport.parkNanos(100_000);
                }
                live.join();
                double seconds = (drained - t0) / 1e9;
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("backlog", backlog);
                m.put("replay_s", Stats.round(seconds));
                m.put("replay_per_s", Math.round(backlog / seconds));
                m.put("live_per_s", livePerSecond);
                long sampledDuring = 0;
                for (int i = 0; i < taken.get(); i++) if (at[i] < drained) sampledDuring++;
                m.put("live_sampled_during_replay", sampledDuring);
                m.put("live_during_replay", stats.summaryMillis()); // count: those also acknowledged before it drained
                return m;
            }
        }
    }
}
