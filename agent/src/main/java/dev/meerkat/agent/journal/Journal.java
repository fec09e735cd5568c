package dev.meerkat.agent.journal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable buffer between sampling and MQTT (SPEC §8): a segmented, append-only log of
 * readings on disk. Its invariants:
 *
 * <ol>
 *   <li><b>Durable before sent.</b> {@link #read} hands out only records whose bytes have been
 *       written and fsynced ({@link #committedId()}); a reading the broker may have seen is on disk.
 *   <li><b>Group commit.</b> {@link #append} never waits for the disk: records wait in memory at
 *       most {@code commitDelay} (or until 256 KiB gather), then one write and one fsync commit
 *       all of them. Fsyncs per second stay at most {@code 1 / commitDelay} however fast readings
 *       come. What a power cut can take is the records of the last {@code commitDelay}, which
 *       nothing has seen yet.
 *   <li><b>Order.</b> Ids grow by one across the journal, in append order; a sensor's readings are
 *       appended in {@code seq} order, so reading by id sends each sensor's readings in seq order.
 *   <li><b>Removed only when acknowledged or dropped.</b> Every sensor's unacknowledged ids are
 *       kept in memory (4 bytes a reading). {@link #acknowledged(String, long)} acknowledges a
 *       sensor's readings up to an id, so one sensor's readings can be acknowledged ahead of
 *       another's (fair replay); the watermark {@link #ackedId()} is one below the oldest
 *       unacknowledged reading of any sensor, and a segment is deleted once all its records are
 *       at or below it. The bounds ({@code maxBytes}, {@code maxAge}) drop whole segments, oldest
 *       first, and every unacknowledged reading dropped is counted per sensor and reason. A write
 *       that fails (a full disk) drops its batch, counted the same way; the journal goes on.
 *   <li><b>Checked.</b> Every record carries a CRC-32C and a magic number (see {@link Codec}).
 *       Opening scans every segment: an intact record is kept, a damaged one is skipped to the next
 *       intact record and counted, a torn or zero-filled tail of the newest segment is cut off.
 *   <li><b>Seq survives.</b> The last {@code seq} of every sensor is recovered from the records
 *       and from the checkpoint record at the head of every segment, so a restart continues each
 *       sensor's numbering with no gap and no reuse even when every reading was delivered.
 * </ol>
 *
 * The acknowledged watermark and each sensor's mark above it are also written to {@code acked}
 * about once a second (and at a clean stop), so that after a crash only the last second's
 * acknowledged readings are sent again.
 */
public final class Journal implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Journal.class);
    private static final int COMMIT_BYTES = 256 * 1024;
    private static final Duration ACKED_SAVE_EVERY = Duration.ofSeconds(1);

    /** @param segmentBytes a segment is closed and a new one started past this size */
    public record Options(Path dir, long maxBytes, Duration maxAge, long segmentBytes, Duration commitDelay) {
        /** Segments of an eighth of {@code maxBytes}, between 16 KiB and 4 MiB; a 2 ms commit delay. */
        public static Options of(Path dir, long maxBytes, Duration maxAge) {
            return new Options(dir, maxBytes, maxAge, Math.max(16 * 1024, Math.min(4L << 20, maxBytes / 8)), Duration.ofMillis(2));
        }
    }

    /** What opening found. */
    public record Recovery(int segments, long records, long unacknowledged, long corruptBytes, long tornBytes, long lostReadings,
                           List<String> problems) {}

    /** Counters since open, for the status. */
    public record Counters(long appended, long committed, long fsyncs, long bytesWritten, long payloadBytes,
                           Map<String, Map<String, Long>> dropped, String lastError, long lastDroppedAtMillis) {}

    /** The sensor under which readings lost at recovery are counted when their sensor cannot be told. */
    public static final String UNKNOWN_SENSOR = "*";

    private final Options options;
    private final Clock clock;
    private volatile long maxBytes;
    private volatile Duration maxAge;
    private volatile boolean dropNewest;
    private volatile long segmentBytes;
    private volatile Runnable onChange = () -> {};
    private long totalBytes; // guarded by lock
    private final Object lock = new Object();
    private final TreeMap<Long, Segment> segments = new TreeMap<>();
    private final TreeMap<String, SensorIds> sensors = new TreeMap<>(); // guarded by lock
    private long unackedCount;
    private final Map<String, Map<String, Long>> dropped = new TreeMap<>();
    private final Thread committer;
    private Recovery recovery;
    private long lastDroppedAt; // guarded by lock
    private SeqReservations seqs;
    /** Damage already counted as lost readings, by segment file name and offset: not counted again at the next start. */
    private final Map<String, java.util.Set<Long>> countedDamage = new TreeMap<>();
    // Guarded by lock:
    private List<Record> pending = new ArrayList<>();
    private List<ByteBuffer> pendingBytes = new ArrayList<>();
    private int pendingSize;
    private long nextId;
    private long committedId;
    private long ackedId;
    private long marksVersion, savedMarksVersion = -1; // a change of an acknowledged mark, and the one saved
    private long appended, committed, fsyncs, bytesWritten, payloadBytes;
    private int ackWaiters;
    private String lastError;
    private boolean closing;
    private FileChannel active;
    private Segment activeSegment;
    private long lastAckedSave;
    private boolean needRoll;
    /** The newest committed readings, in id order: a sender that keeps up reads them here, not from the file. */
    private final RecentRecords recent = new RecentRecords();
    private final SegmentReader reader = new SegmentReader(lock);
    private volatile int recordBytes = 512; // the size of a recent record, on average

    private Journal(Options options, Clock clock) {
        this.options = options;
        this.clock = clock;
        this.maxBytes = options.maxBytes();
        this.maxAge = options.maxAge();
        this.segmentBytes = options.segmentBytes();
        this.committer = Thread.ofPlatform().name("meerkat-journal").daemon(true).unstarted(this::commitLoop);
    }

    /** Opens (recovering) or creates the journal in {@code options.dir()}. */
    public static Journal open(Options options, Clock clock) {
        Journal j = new Journal(options, clock);
        j.recover();
        j.committer.start();
        return j;
    }

    public Recovery recovery() {
        return recovery;
    }

    /**
     * Reads what the last run left. It never fails for the journal's own sake: a segment that cannot
     * be read (its permissions, a bad sector, a directory in its place) is set aside under a new
     * name and reported with the readings it held; a directory that cannot be made or listed, or a
     * full disk, leave a journal that counts what it cannot keep until it can (the agent samples on).
     *
     * <p>Recovery is honest about what it lost: the ids between the last intact reading before
     * damage and the first after it (damaged records, a segment's damaged end, segments set aside)
     * are readings lost, counted as dropped with reason {@code recovery} (under
     * {@link #UNKNOWN_SENSOR}: damaged bytes do not tell whose they were), once for each damage
     * (the acked file remembers what was counted). A torn tail of the newest segment held readings
     * never committed, and is not counted. An acked file that does not match its checksum, or whose
     * watermark lies beyond the journal's end, is ignored: what is not known to be acknowledged is
     * sent again. After new damage, each sensor's {@code seq} goes on past its reservation
     * ({@link SeqReservations}), so no {@code seq} is handed out twice.
     */
    private void recover() {
        RecoveryScan scan = RecoveryScan.of(options.dir());
        List<String> problems = scan.problems;
        seqs = scan.seqs;
        segments.putAll(scan.segments);
        sensors.putAll(scan.sensors);
        countedDamage.putAll(scan.countedDamage);
        dropped.putAll(scan.dropped);
        ackedId = scan.ackedId;
        lastDroppedAt = scan.lastDroppedAt;
        unackedCount = scan.unackedCount;
        nextId = scan.nextId;
        committedId = nextId - 1;
        recomputeAcked();
        if (scan.lost > 0) drop(UNKNOWN_SENSOR, "recovery", scan.lost);
        if (scan.newDamage) marksVersion++; // what was counted is saved, and not counted again
        recovery = new Recovery(segments.size(), scan.records, scan.unacked, scan.corrupt, scan.torn, scan.lost, List.copyOf(problems));
        // Always append to a fresh segment, headed by a checkpoint: a damaged old tail is never written
        // after. On a full disk the first commit tries again (and counts what it cannot keep).
        synchronized (lock) {
            rollOrMark();
        }
        deleteAcknowledged();
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
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    /** The next {@code seq} for {@code sensor}: one past the last one appended, recovered across restarts. */
    public long nextSeq(String sensor) {
        synchronized (lock) {
            long seq = ++ids(sensor).lastSeq; // a sensor's first reading is seq 1
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
                ids(sensor).seen(seq);
                drop(sensor, "full", 1);
                appended++;
                return -1;
            }
            Record r = new Record(nextId++, sensor, seq, tsMillis, topic, qos, payload);
            SensorIds ids = ids(sensor);
            ids.seen(seq);
            ids.waiting.add(r.id());
            ids.newest = r.id();
            unackedCount++;
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

    private void commitLoop() {
        while (true) {
            List<Record> batch;
            List<ByteBuffer> bytes;
            synchronized (lock) {
                try {
                    long waitUntil = System.nanoTime() + ACKED_SAVE_EVERY.toNanos();
                    while (pending.isEmpty() && !closing) {
                        long left = waitUntil - System.nanoTime();
                        if (left <= 0) break;
                        lock.wait(Math.max(1, left / 1_000_000));
                    }
                    if (!pending.isEmpty() && !closing) {
                        // Gather: wait out the commit delay unless enough bytes are waiting already.
                        long until = System.nanoTime() + options.commitDelay().toNanos();
                        while (pendingSize < COMMIT_BYTES && !closing) {
                            long left = until - System.nanoTime();
                            if (left <= 0) break;
                            lock.wait(left / 1_000_000, (int) (left % 1_000_000));
                        }
                    }
                } catch (InterruptedException e) {
                    closing = true;
                }
                batch = pending;
                bytes = pendingBytes;
                pending = new ArrayList<>();
                pendingBytes = new ArrayList<>();
                pendingSize = 0;
            }
            if (!batch.isEmpty()) {
                commit(batch, bytes);
                onCommit.run();
            }
            maintain();
            synchronized (lock) {
                if (closing && pending.isEmpty()) return;
            }
        }
    }

    /**
     * One write and one fsync for the batch, or one per segment when the batch fills the active
     * segment (segments never grow much past their size, so the bounds drop in small steps). On a
     * failure the rest of the batch is dropped and counted.
     */
    private void commit(List<Record> batch, List<ByteBuffer> bytes) {
        if (needRoll) {
            // After a failed write the segment's tail is suspect: go on in a new one (once there is room).
            try {
                synchronized (lock) {
                    roll();
                    needRoll = false;
                }
            } catch (java.io.UncheckedIOException e) {
                failed(batch, "cannot start a journal segment in " + options.dir() + ": " + e.getCause());
                return;
            }
        }
        int from = 0;
        while (from < batch.size()) {
            long room = segmentBytes - activeSegment.bytes;
            int to = from;
            long size = 0;
            while (to < batch.size() && (to == from || size + bytes.get(to).remaining() <= room)) {
                size += bytes.get(to).remaining();
                to++;
            }
            if (!write(batch.subList(from, to), bytes.subList(from, to), size)) {
                synchronized (lock) {
                    String reason = String.valueOf(lastError).contains("No space left on device") ? "diskFull" : "writeError";
                    for (Record r : batch.subList(to, batch.size())) drop(r.sensor(), reason, 1);
                    forget(batch.subList(to, batch.size()));
                    committedId = batch.get(batch.size() - 1).id();
                    recomputeAcked();
                    lock.notifyAll();
                }
                return;
            }
            from = to;
        }
    }

    private boolean write(List<Record> batch, List<ByteBuffer> bytes, long size) {
        long before = activeSegment.bytes;
        try {
            ByteBuffer[] arr = bytes.toArray(ByteBuffer[]::new);
            long written = 0;
            while (written < size) written += active.write(arr);
            active.force(false);
            synchronized (lock) {
                fsyncs++;
                bytesWritten += size;
                activeSegment.bytes += size;
                activeSegment.lastId = batch.get(batch.size() - 1).id();
                for (Record r : batch) activeSegment.lastTs = Math.max(activeSegment.lastTs, r.tsMillis());
                committedId = activeSegment.lastId;
                committed += batch.size();
                recordBytes = (int) Math.max(1, size / batch.size());
                if (lastError != null) {
                    lastError = null;
                    onChange.run();
                }
                recent.addAll(batch);
                lock.notifyAll();
                if (activeSegment.bytes >= segmentBytes) rollOrMark();
            }
            return true;
        } catch (IOException | java.io.UncheckedIOException e) {
            try {
                active.truncate(before);
            } catch (IOException ignored) {
                // the next recovery cuts a partial record anyway
            }
            failed(batch, "cannot write the journal in " + options.dir() + ": " + e);
            return false;
        }
    }

    /** A batch that could not be written (a full disk): dropped, counted, reported; the next commit starts a new segment. */
    private void failed(List<Record> batch, String why) {
        synchronized (lock) {
            if (!why.equals(lastError)) log.error("{}; {} readings dropped", why, batch.size());
            lastError = why;
            needRoll = true;
            onChange.run();
            String reason = why.contains("No space left on device") ? "diskFull" : "writeError";
            for (Record r : batch) drop(r.sensor(), reason, 1);
            forget(batch);
            // Ids of the lost batch are committed as nothing: readers move past them.
            committedId = Math.max(committedId, batch.get(batch.size() - 1).id());
            recomputeAcked();
            recent.clear();
            lock.notifyAll();
        }
    }

    /**
     * Starts a new segment headed by a checkpoint of every sensor's last seq; named after the id of
     * the first reading it will hold (the checkpoint takes no id of its own). Holds the lock.
     */
    private void roll() {
        try {
            if (active != null) active.close();
            long first = committedId + 1;
            Segment empty = segments.remove(first); // a segment with no reading yet, left by the last run
            if (empty != null) Files.deleteIfExists(empty.path);
            Path path = options.dir().resolve(String.format("%020d.seg", first));
            Segment seg = new Segment(first, path);
            FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            Map<String, Long> seqs = new TreeMap<>();
            sensors.forEach((sensor, ids) -> {
                if (ids.lastSeq > 0) seqs.put(sensor, ids.lastSeq);
            });
            ByteBuffer cp = Codec.encodeCheckpoint(first - 1, seqs);
            int n = cp.remaining();
            try {
                while (cp.hasRemaining()) ch.write(cp);
                ch.force(true);
                syncDirectory();
            } catch (IOException e) {
                ch.close();
                Files.deleteIfExists(path);
                throw e;
            }
            fsyncs += 2;
            bytesWritten += n;
            seg.bytes = n;
            segments.put(first, seg);
            active = ch;
            activeSegment = seg;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot start a journal segment in " + options.dir(), e);
        }
    }

    /** A roll that may fail (a full disk): then the next commit tries again. Holds the lock. */
    private void rollOrMark() {
        try {
            roll();
        } catch (java.io.UncheckedIOException e) {
            needRoll = true;
            lastError = "cannot start a journal segment in " + options.dir() + ": " + e.getCause();
            log.error(lastError);
            onChange.run();
        }
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(options.dir(), StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** Bounds, deletion of acknowledged segments, the acked file. On the committer thread. */
    private void maintain() {
        long now = clock.millis();
        synchronized (lock) {
            long total = 0;
            for (Segment s : segments.values()) total += s.bytes;
            while (!dropNewest && total > maxBytes && segments.size() > 1) {
                Segment oldest = segments.firstEntry().getValue();
                if (oldest == activeSegment) break;
                total -= oldest.bytes;
                dropSegment(oldest, "maxBytes");
            }
            while (segments.size() > 1) {
                Segment oldest = segments.firstEntry().getValue();
                if (oldest == activeSegment || oldest.lastTs == 0 || now - oldest.lastTs <= maxAge.toMillis()) break;
                dropSegment(oldest, "maxAge");
            }
            // The active segment itself, once everything in it is too old: roll, so it can go next time.
            if (activeSegment != null && activeSegment.lastTs > 0 && now - activeSegment.lastTs > maxAge.toMillis() && activeSegment.lastId >= activeSegment.firstId) {
                rollOrMark();
            }
            totalBytes = 0;
            for (Segment s : segments.values()) totalBytes += s.bytes;
        }
        deleteAcknowledged();
        saveAckedIfDue(now, false);
    }

    /**
     * Drops a whole segment to keep a bound, counting its unacknowledged readings (every older
     * segment is gone already, so they are the sensors' waiting ids up to its last). Holds the lock.
     */
    private void dropSegment(Segment s, String reason) {
        Map<String, Long> counts = new TreeMap<>();
        sensors.forEach((sensor, ids) -> {
            int n = ids.waiting.removeUpTo(s.lastId);
            if (n > 0) counts.put(sensor, (long) n);
        });
        counts.forEach((sensor, n) -> drop(sensor, reason, n));
        long n = counts.values().stream().mapToLong(Long::longValue).sum();
        unackedCount -= n;
        if (n > 0) log.warn("journal over its {} bound: dropped the oldest {} unacknowledged readings {}", reason, n, counts);
        try {
            Files.deleteIfExists(s.path);
        } catch (IOException e) {
            log.error("cannot drop journal segment {}: {}", s.path, e.toString());
        }
        segments.remove(s.firstId);
        recent.dropUpTo(s.lastId);
        if (ackedId < s.lastId) {
            ackedId = s.lastId;
            marksVersion++;
        }
        recomputeAcked();
        lock.notifyAll();
    }

    private SensorIds ids(String sensor) {
        return sensors.computeIfAbsent(sensor, k -> new SensorIds());
    }

    /** Takes readings that never reached the disk out of the waiting ones. Holds the lock. */
    private void forget(List<Record> lost) {
        for (Record r : lost) {
            SensorIds ids = sensors.get(r.sensor());
            if (ids != null && ids.waiting.remove(r.id())) unackedCount--;
        }
    }

    /** The watermark: one below the oldest waiting reading, or everything committed when none waits. Holds the lock. */
    private void recomputeAcked() {
        long mark = committedId;
        for (SensorIds ids : sensors.values()) if (!ids.waiting.isEmpty()) mark = Math.min(mark, ids.waiting.first() - 1);
        if (mark > ackedId) {
            ackedId = mark;
            marksVersion++;
        }
    }

    /** Each sensor's acknowledged mark above the watermark: all its readings at or below it are acknowledged. Holds the lock. */
    private Map<String, Long> sensorMarks() {
        Map<String, Long> marks = new TreeMap<>();
        sensors.forEach((sensor, ids) -> {
            if (ids.mark() > ackedId) marks.put(sensor, ids.mark());
        });
        return marks;
    }

    /** Counts {@code n} readings of {@code sensor} dropped for {@code reason}; the counts are kept across restarts (the acked file). */
    private void drop(String sensor, String reason, long n) {
        dropped.computeIfAbsent(sensor, k -> new TreeMap<>()).merge(reason, n, Long::sum);
        lastDroppedAt = clock.millis();
        marksVersion++;
        onChange.run();
    }

    /**
     * Told when readings are dropped or the write error changes, so that the status says so at
     * once. It must not block (it may run with the journal's lock held).
     */
    public void onChange(Runnable listener) {
        this.onChange = listener;
    }

    private void deleteAcknowledged() {
        List<Segment> gone = new ArrayList<>();
        synchronized (lock) {
            for (Segment s : segments.values()) {
                if (s == activeSegment || s.lastId > ackedId) break;
                gone.add(s);
            }
            for (Segment s : gone) segments.remove(s.firstId);
        }
        for (Segment s : gone) {
            try {
                Files.deleteIfExists(s.path);
            } catch (IOException e) {
                log.warn("cannot delete journal segment {}: {}", s.path, e.toString());
            }
        }
    }

    private void saveAckedIfDue(long now, boolean sync) {
        long version;
        String text;
        synchronized (lock) {
            if (marksVersion == savedMarksVersion || (!sync && now - lastAckedSave < ACKED_SAVE_EVERY.toMillis())) return;
            version = marksVersion;
            text = new AckedMarks(ackedId, sensorMarks(), dropped, lastDroppedAt, countedDamage).text();
            lastAckedSave = now;
        }
        try {
            CheckedFile.write(options.dir().resolve("acked"), text, sync);
            synchronized (lock) {
                savedMarksVersion = version;
            }
        } catch (IOException e) {
            log.warn("cannot save the journal's acked mark: {}", e.toString());
        }
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
            SensorIds ids = sensors.get(sensor);
            int n = ids == null ? 0 : ids.waiting.removeUpTo(Math.min(upToId, committedId));
            if (n == 0) return;
            unackedCount -= n;
            marksVersion++;
            recomputeAcked();
            if (ackWaiters > 0) lock.notifyAll();
        }
    }

    /** A sensor's readings waiting for their acknowledgement: the oldest id and the newest (perhaps not committed yet). */
    public record Waiting(String sensor, long firstId, long lastId) {}

    /** Every sensor with readings waiting, by name. */
    public List<Waiting> waiting() {
        synchronized (lock) {
            List<Waiting> out = new ArrayList<>();
            sensors.forEach((sensor, ids) -> {
                if (!ids.waiting.isEmpty()) out.add(new Waiting(sensor, ids.waiting.first(), ids.waiting.last()));
            });
            return out;
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
            return ackedId;
        }
    }

    /**
     * Runs {@code listener} on the journal's thread after each commit (outside the journal's lock):
     * how a reader waits for readings without polling. One listener; a later call replaces it.
     */
    public void onCommit(Runnable listener) {
        this.onCommit = listener;
    }

    private volatile Runnable onCommit = () -> {};

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
            return unackedCount;
        }
    }

    /** Waits until everything appended so far is acknowledged; true if it was in time. */
    public boolean awaitAcknowledged(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            long target = nextId - 1;
            ackWaiters++;
            try {
                while (ackedId < target) {
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
            dropped.forEach((s, m) -> d.put(s, Map.copyOf(m)));
            return new Counters(appended, committed, fsyncs, bytesWritten, payloadBytes, d, lastError, lastDroppedAt);
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
        deleteAcknowledged();
        saveAckedIfDue(clock.millis(), true);
        synchronized (lock) {
            try {
                if (active != null) active.close();
            } catch (IOException e) {
                // closing
            }
        }
    }
}
