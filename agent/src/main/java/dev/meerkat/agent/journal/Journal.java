package dev.meerkat.agent.journal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable buffer between sampling and MQTT (SPEC §8): a segmented, append-only log of
 * readings on disk. Its invariants are in the package's documentation ({@code package-info}).
 */
public final class Journal implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Journal.class);
    static final int COMMIT_BYTES = 256 * 1024;

    /** @param segmentBytes a segment is closed and a new one started past this size */
    public record Options(Path dir, long maxBytes, Duration maxAge, long segmentBytes, Duration commitDelay) {
        /** Segments of an eighth of {@code maxBytes}, between 16 KiB and 4 MiB; a 2 ms commit delay. */
        public static Options of(Path dir, long maxBytes, Duration maxAge) {
            return new Options(dir, maxBytes, maxAge, Math.max(16 * 1024, Math.min(4L << 20, maxBytes / 8)), Duration.ofMillis(2));
        }
    }

    /** What opening found; {@code seqGaps}: each sensor whose seq jumps at this start, which seqs are not used and why. */
    public record Recovery(int segments, long records, long unacknowledged, long corruptBytes, long tornBytes, long lostReadings,
                           List<String> problems, Map<String, String> seqGaps) {}

    /** Counters since open, for the status; {@code enqueued} per sensor (what each had waiting at the open included). */
    public record Counters(long appended, long committed, long fsyncs, long bytesWritten, long payloadBytes,
                           Map<String, Map<String, Long>> dropped, String lastError, long lastDroppedAtMillis, long bytesOnDisk, Map<String, Long> enqueued) {}

    /** The sensor under which readings lost at recovery are counted when their sensor cannot be told. */
    public static final String UNKNOWN_SENSOR = "*";

    final Options options;
    final Clock clock;
    volatile long maxBytes;
    volatile Duration maxAge;
    volatile boolean dropNewest;
    volatile long segmentBytes;
    volatile Runnable onChange = () -> {};
    long totalBytes; // guarded by lock
    final Object lock = new Object();
    final TreeMap<Long, Segment> segments = new TreeMap<>();
    private final Thread committer;
    private Recovery recovery;
    private SeqReservations seqs;
    // Guarded by lock:
    List<Record> pending = new ArrayList<>();
    List<ByteBuffer> pendingBytes = new ArrayList<>();
    int pendingSize;
    long nextId;
    long committedId;
    long appended, committed, fsyncs, bytesWritten, payloadBytes;
    int ackWaiters;
    String lastError;
    boolean closing;
    /** The newest committed readings, in id order: a sender that keeps up reads them here, not from the file. */
    final RecentRecords recent = new RecentRecords();
    /** Who waits for what, the marks, the drops (guarded by lock; the recovery scan's until the thread starts). */
    Ledger ledger = new Ledger();
    private final SegmentReader reader = new SegmentReader(lock);
    final SegmentWriter writer = new SegmentWriter(this);
    volatile int recordBytes = 512; // the size of a recent record, on average

    /** The sync window in nanoseconds; 0: each record forced before it is handed out. */
    volatile long syncNanos;
    private final RunMarker.File run;

    private Journal(Options options, Clock clock, String boot) {
        this.options = options;
        this.clock = clock;
        this.run = new RunMarker.File(options.dir().resolve("run"), boot);
        this.maxBytes = options.maxBytes();
        this.maxAge = options.maxAge();
        this.segmentBytes = options.segmentBytes();
        this.committer = Thread.ofPlatform().name("meerkat-journal").daemon(true).unstarted(writer::loop);
    }

    /** Opens (recovering) or creates the journal in {@code options.dir()}. */
    public static Journal open(Options options, Clock clock) {
        return open(options, clock, RunMarker.currentBoot());
    }

    /** @param boot this boot's id: a test says when the machine restarted */
    static Journal open(Options options, Clock clock, String boot) {
        Journal j = new Journal(options, clock, boot);
        j.recover(boot);
        j.run.write(0, false);
        j.committer.start();
        return j;
    }

    public Recovery recovery() {
        return recovery;
    }

    /** Takes over what the last run left ({@link RecoveryScan}), then starts a fresh segment. */
    private void recover(String boot) {
        RecoveryScan scan = RecoveryScan.of(options.dir(), boot);
        List<String> problems = scan.problems;
        seqs = scan.seqs;
        segments.putAll(scan.segments);
        ledger = scan.ledger;
        nextId = scan.nextId;
        committedId = nextId - 1;
        writer.unsynced.syncedId = committedId;
        ledger.recomputeAcked(committedId);
        ledger.startRun();
        if (scan.lost > 0) drop(UNKNOWN_SENSOR, "recovery", scan.lost);
        if (scan.newDamage) ledger.version++; // what was counted is saved, and not counted again
        recovery = new Recovery(segments.size(), scan.records, scan.unacked, scan.corrupt, scan.torn, scan.lost, List.copyOf(problems),
                Map.copyOf(scan.skipped));
        // Always append to a fresh segment, headed by a checkpoint: a damaged old tail is never written
        // after. On a full disk the first commit tries again (and counts what it cannot keep).
        synchronized (lock) {
            writer.rollOrMark();
        }
        writer.deleteAcknowledged();
        if (!problems.isEmpty()) {
            log.warn("journal recovered with damage: {} intact readings kept ({} unacknowledged), {} lost, {} damaged bytes skipped, {} torn bytes cut: {}",
                    scan.records, scan.unacked, scan.lost, scan.corrupt, scan.torn, problems);
        } else if (scan.records > 0) {
            log.info("journal recovered: {} readings in {} segments, {} unacknowledged", scan.records, segments.size(), scan.unacked);
        }
    }

    /**
     * New bounds, live (the agent's {@code buffer} settings). With {@code dropNewest}, a full
     * journal refuses new readings (counted) instead of dropping its oldest.
     */
    public void bounds(long maxBytes, Duration maxAge, boolean dropNewest) {
        this.maxBytes = maxBytes;
        // Segments stay an eighth of the bound, so that it is kept in small steps (new segments follow it).
        this.segmentBytes = Options.of(options.dir(), maxBytes, maxAge).segmentBytes();
        this.maxAge = maxAge;
        this.dropNewest = dropNewest;
        writer.maintainSoon();
    }

    /**
     * The sync window, live (the agent's {@code buffer.syncInterval}): a record the broker has not
     * acknowledged within it is forced to the card; 0 forces each before it is handed out. The run
     * file says so first, so that the next start knows what a power cut may have taken.
     */
    public void syncInterval(Duration window) {
        long millis = window.toMillis();
        synchronized (lock) {
            if (millis > run.window() && !run.write(millis, false)) {
                syncNanos = 0; // a power cut under a window the run file does not record could not be told at the next start
            } else {
                syncNanos = window.toNanos();
            }
            lock.notifyAll();
        }
    }

    /** The next {@code seq} for {@code sensor}: one past the last one appended, recovered across restarts. */
    public long nextSeq(String sensor) {
        synchronized (lock) {
            long seq = ++ledger.ids(sensor).lastSeq; // a sensor's first reading is seq 1
            seqs.cover(sensor, seq);
            return seq;
        }
    }

    /**
     * Appends a reading; it becomes readable once committed (within {@code commitDelay}). Never
     * blocks on the disk. Returns its id.
     */
    public long append(String sensor, long seq, long tsMillis, String topic, int qos, byte[] payload) {
        ByteBuffer unsealed = Codec.unsealed(sensor, seq, tsMillis, topic, qos, payload); // outside the lock the sender and acks need
        synchronized (lock) {
            if (closing) throw new IllegalStateException("journal closed");
            if (dropNewest && totalBytes + pendingSize >= maxBytes) {
                ledger.droppedNewest(sensor, seq);
                drop(sensor, "full", 1);
                appended++;
                return -1;
            }
            Record r = new Record(nextId++, sensor, seq, tsMillis, topic, qos, payload);
            ledger.appended(sensor, seq, r.id());
            ByteBuffer b = Codec.seal(unsealed, r.id());
            pending.add(r);
            pendingBytes.add(b);
            pendingSize += b.remaining();
            appended++;
            payloadBytes += payload.length;
            if (pending.size() == 1 || pendingSize >= COMMIT_BYTES) lock.notifyAll();
            return r.id();
        }
    }

    /** Counts {@code n} readings of {@code sensor} dropped for {@code reason}; the counts are kept across restarts (the acked file). */
    void drop(String sensor, String reason, long n) {
        ledger.drop(sensor, reason, n, clock.millis());
        onChange.run();
    }

    /**
     * Told when readings are dropped or the write error changes, so that the status says so at
     * once. It must not block (it may run with the journal's lock held).
     */
    public void onChange(Runnable listener) {
        this.onChange = listener;
    }

    /**
     * Readings read from the journal, and how far the reader may move on: {@code upTo} is past the
     * last reading and past any ids in between that hold no reading (checkpoints, dropped readings).
     */
    public record Batch(List<Record> records, long upTo) {}

    /**
     * Up to {@code max} committed readings with ids above {@code afterId}, in id order; waits up
     * to {@code wait} for one when there is none. Readings dropped by a bound are skipped. A read
     * that continues where the previous one stopped starts at that byte of the segment (one
     * reader, the sender, reads this way); any other starts at the segment's head.
     */
    public Batch read(long afterId, int max, Duration wait) throws InterruptedException {
        return read(null, afterId, max, wait, true);
    }

    /**
     * Up to {@code max} committed readings of {@code sensor} with ids above {@code afterId}, in id
     * order, without waiting; {@code upTo} is past every reading of that sensor not returned. A
     * read that continues where the previous one of the same sensor stopped starts at that byte.
     */
    public Batch read(String sensor, long afterId, int max) {
        try {
            return read(sensor, afterId, max, Duration.ZERO, true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Batch(List.of(), afterId);
        }
    }

    private Batch read(String sensor, long afterId, int max, Duration wait, boolean sender) throws InterruptedException {
        List<Segment> from = new ArrayList<>();
        long upTo;
        synchronized (lock) {
            long deadline = System.nanoTime() + wait.toNanos();
            while (committedId <= afterId) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closing) return new Batch(List.of(), afterId);
                lock.wait(Math.max(1, left / 1_000_000));
            }
            upTo = committedId;
            if (recent.covers(afterId, upTo)) { // caught up: from memory
                List<Record> out = recent.after(afterId, sensor, max);
                return new Batch(out, out.size() >= max ? out.get(out.size() - 1).id() : upTo);
            }
            var floor = segments.floorKey(afterId + 1);
            for (Segment s : (floor == null ? segments : segments.tailMap(floor, true)).values()) {
                if (s.lastId > afterId) from.add(s);
            }
        }
        return reader.read(from, sensor, afterId, upTo, max, sender, recordBytes);
    }

    /** Every reading of {@code sensor} at or below {@code upToId} is acknowledged by the broker. */
    public void acknowledged(String sensor, long upToId) {
        synchronized (lock) {
            if (ledger.acknowledged(sensor, Math.min(upToId, committedId), committedId) > 0 && ackWaiters > 0) lock.notifyAll();
        }
    }

    /** A sensor's readings waiting for their acknowledgement: the oldest id and the newest (perhaps not committed yet). */
    public record Waiting(String sensor, long firstId, long lastId) {}

    /** Every sensor with readings waiting, by name. */
    public List<Waiting> waiting() {
        synchronized (lock) {
            return ledger.waiting();
        }
    }

    /** Waits up to {@code wait} for a reading committed after {@code afterId}; returns the committed id. */
    public long awaitCommitted(long afterId, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        synchronized (lock) {
            while (committedId <= afterId && !closing) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                lock.wait(Math.max(1, left / 1_000_000));
            }
            return committedId;
        }
    }

    public long ackedId() {
        synchronized (lock) {
            return ledger.ackedId;
        }
    }

    /**
     * Runs {@code listener} on the journal's thread after each commit (outside the journal's lock):
     * how a reader waits for readings without polling. One listener; a later call replaces it.
     */
    public void onCommit(Runnable listener) {
        this.onCommit = listener;
    }

    volatile Runnable onCommit = () -> {};

    public long committedId() {
        synchronized (lock) {
            return committedId;
        }
    }

    /** The id the next append gets, minus one: everything appended so far is at or below it. */
    public long lastId() {
        synchronized (lock) {
            return nextId - 1;
        }
    }

    /** Readings appended and not yet acknowledged (or dropped). */
    public long depth() {
        synchronized (lock) {
            return ledger.unacked;
        }
    }

    /** Waits until everything appended so far is acknowledged; true if it was in time. */
    public boolean awaitAcknowledged(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            long target = nextId - 1;
            ackWaiters++;
            try {
                while (ledger.ackedId < target) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) return false;
                    lock.wait(Math.max(1, left / 1_000_000));
                }
                return true;
            } finally {
                ackWaiters--;
            }
        }
    }

    /** The sample time of the oldest unacknowledged reading, or null when there is none. */
    public java.time.Instant oldestUnacknowledged() {
        try {
            List<Record> r = read(null, ackedId(), 1, Duration.ZERO, false).records();
            return r.isEmpty() ? null : java.time.Instant.ofEpochMilli(r.get(0).tsMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    public Counters counters() {
        synchronized (lock) {
            Map<String, Map<String, Long>> d = new LinkedHashMap<>();
            ledger.dropped.forEach((s, m) -> d.put(s, Map.copyOf(m)));
            return new Counters(appended, committed, fsyncs, bytesWritten, payloadBytes, d, lastError, ledger.lastDroppedAt, totalBytes, ledger.enqueued());
        }
    }

    /** Commits what is pending, saves the acked mark (fsynced) and closes. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closing) return;
            closing = true;
            lock.notifyAll();
        }
        try {
            committer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writer.deleteAcknowledged();
        writer.acked.saveIfDue(clock.millis(), true);
        synchronized (lock) {
            try {
                writer.close(); // forced first
                run.write(run.window(), true);
            } catch (IOException e) {
                // closing
            }
        }
    }
}
