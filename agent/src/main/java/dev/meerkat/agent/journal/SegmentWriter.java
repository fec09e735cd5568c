package dev.meerkat.agent.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal's writing side, on its one thread: group commit (gather, one write a batch, and one
 * fsync before it is handed out, or once the sync window has passed with a record of it not
 * acknowledged), segments started with a checkpoint and rolled at their size, the bounds kept
 * (oldest segments dropped and counted), acknowledged segments deleted, and the acked file saved
 * ({@link AckedFile}). It works on the {@link Journal}'s state under the journal's lock; the
 * active segment's channel is its own.
 */
final class SegmentWriter {
    private static final Logger log = LoggerFactory.getLogger(Journal.class);
    /** How often the bounds are checked when nothing else wakes the thread. */
    private static final Duration MAINTAIN_EVERY = Duration.ofSeconds(1);
    private final Journal j;
    // Guarded by the journal's lock:
    private FileChannel active;
    Segment activeSegment;
    final AckedFile acked;
    private boolean needRoll;
    final Unsynced unsynced = new Unsynced();
    /** The sync window's time source (a test drives it); the commit delay and maintenance keep the real clock. */
    volatile dev.meerkat.time.Ticker windowClock = dev.meerkat.time.Ticker.SYSTEM;
    /** The window's time of the last decision to force or not (a test waits for one after it moved the time). */
    volatile long decidedAt = Long.MIN_VALUE;
    // Requests to keep the bounds at once (new bounds, a test), under the journal's lock; and the last served.
    private long maintainAsked, maintainTaken;
    volatile long maintainedUpTo;

    SegmentWriter(Journal journal) {
        this.j = journal;
        this.acked = new AckedFile(journal);
    }

    /** The journal's thread: gathers, commits, keeps the bounds. */
    void loop() {
        while (true) {
            List<Record> batch;
            List<ByteBuffer> bytes;
            synchronized (j.lock) {
                try {
                    long waitUntil = System.nanoTime() + MAINTAIN_EVERY.toNanos();
                    while (j.pending.isEmpty() && !j.closing && maintainTaken == maintainAsked) {
                        long due = syncDue(), left = waitUntil - System.nanoTime();
                        if (due != Long.MAX_VALUE) left = Math.min(left, due - windowClock.nanos());
                        if (left <= 0) break;
                        j.lock.wait(Math.max(1, left / 1_000_000));
                    }
                    if (!j.pending.isEmpty() && !j.closing) {
                        // Gather: wait out the commit delay unless enough bytes are waiting already.
                        long until = System.nanoTime() + j.options.commitDelay().toNanos();
                        while (j.pendingSize < Journal.COMMIT_BYTES && !j.closing) {
                            long left = until - System.nanoTime();
                            if (left <= 0) break;
                            j.lock.wait(left / 1_000_000, (int) (left % 1_000_000));
                        }
                    }
                } catch (InterruptedException e) {
                    j.closing = true;
                }
                maintainTaken = maintainAsked;
                batch = j.pending;
                bytes = j.pendingBytes;
                j.pending = new ArrayList<>();
                j.pendingBytes = new ArrayList<>();
                j.pendingSize = 0;
            }
            if (!batch.isEmpty()) {
                commit(batch, bytes);
                j.onCommit.run();
            }
            syncIfDue(false);
            maintain();
            synchronized (j.lock) {
                if (j.closing && j.pending.isEmpty()) break;
            }
        }
        syncIfDue(true);
    }

    /** Has the bounds kept at once, not within a second; returns the request's number ({@link #maintainedUpTo} reaches it). */
    long maintainSoon() {
        synchronized (j.lock) {
            j.lock.notifyAll();
            return ++maintainAsked;
        }
    }

    private long syncDue() {
        return unsynced.due(j.syncNanos);
    }

    /**
     * Forces what was written once the oldest write not forced has waited the window ({@code now}:
     * whatever the window), unless the broker has acknowledged every reading of it first
     * ({@link Unsynced#mustForce}). One fsync forces every write before it.
     */
    private void syncIfDue(boolean now) {
        long upTo, at = windowClock.nanos();
        try {
            synchronized (j.lock) {
                if (!unsynced.mustForce(j.ledger, now, at, j.syncNanos)) return;
                upTo = j.committedId;
            }
            active.force(false);
            synchronized (j.lock) {
                j.fsyncs++;
                unsynced.forced(upTo);
            }
        } catch (IOException e) {
            // The next write fails too, and says why; the records stay in the page cache meanwhile.
            log.warn("cannot force the journal to disk: {}", e.toString());
        } finally {
            decidedAt = at;
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
                synchronized (j.lock) {
                    roll();
                    needRoll = false;
                }
            } catch (java.io.UncheckedIOException e) {
                failed(batch, "cannot start a journal segment in " + j.options.dir() + ": " + e.getCause());
                return;
            }
        }
        int from = 0;
        while (from < batch.size()) {
            long room = j.segmentBytes - activeSegment.bytes;
            int to = from;
            long size = 0;
            while (to < batch.size() && (to == from || size + bytes.get(to).remaining() <= room)) {
                size += bytes.get(to).remaining();
                to++;
            }
            if (!write(batch.subList(from, to), bytes.subList(from, to), size)) {
                synchronized (j.lock) {
                    String reason = String.valueOf(j.lastError).contains("No space left on device") ? "diskFull" : "writeError";
                    for (Record r : batch.subList(to, batch.size())) j.drop(r.sensor(), reason, 1);
                    j.ledger.forget(batch.subList(to, batch.size()));
                    j.committedId = batch.get(batch.size() - 1).id();
                    j.ledger.recomputeAcked(j.committedId);
                    j.lock.notifyAll();
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
            boolean force = j.syncNanos == 0;
            if (force) active.force(false);
            synchronized (j.lock) {
                if (force) {
                    j.fsyncs++;
                    unsynced.forced(batch.get(batch.size() - 1).id());
                } else {
                    unsynced.written(batch.get(batch.size() - 1).id(), windowClock.nanos());
                }
                j.bytesWritten += size;
                activeSegment.bytes += size;
                activeSegment.lastId = batch.get(batch.size() - 1).id();
                for (Record r : batch) activeSegment.lastTs = Math.max(activeSegment.lastTs, r.tsMillis());
                j.committedId = activeSegment.lastId;
                j.committed += batch.size();
                j.recordBytes = (int) Math.max(1, size / batch.size());
                if (j.lastError != null) {
                    j.lastError = null;
                    j.onChange.run();
                }
                j.recent.addAll(batch);
                j.lock.notifyAll();
                if (activeSegment.bytes >= j.segmentBytes) rollOrMark();
            }
            return true;
        } catch (IOException | java.io.UncheckedIOException e) {
            try {
                active.truncate(before);
            } catch (IOException ignored) {
                // the next recovery cuts a partial record anyway
            }
            failed(batch, "cannot write the journal in " + j.options.dir() + ": " + e);
            return false;
        }
    }

    /** A batch that could not be written (a full disk): dropped, counted, reported; the next commit starts a new segment. */
    private void failed(List<Record> batch, String why) {
        synchronized (j.lock) {
            if (!why.equals(j.lastError)) log.error("{}; {} readings dropped", why, batch.size());
            j.lastError = why;
            needRoll = true;
            j.onChange.run();
            String reason = why.contains("No space left on device") ? "diskFull" : "writeError";
            for (Record r : batch) j.drop(r.sensor(), reason, 1);
            j.ledger.forget(batch);
            // Ids of the lost batch are committed as nothing: readers move past them.
            j.committedId = Math.max(j.committedId, batch.get(batch.size() - 1).id());
            j.ledger.recomputeAcked(j.committedId);
            j.recent.clear();
            j.lock.notifyAll();
        }
    }

    /**
     * Starts a new segment headed by a checkpoint of every sensor's last seq; named after the id of
     * the first reading it will hold (the checkpoint takes no id of its own). Holds the lock.
     */
    private void roll() {
        try {
            if (active != null) {
                if (!unsynced.isEmpty()) {
                    active.force(false); // its records, not forced yet, go with it
                    unsynced.forced(j.committedId);
                }
                active.close();
            }
            long first = j.committedId + 1;
            Segment empty = j.segments.remove(first); // a segment with no reading yet, left by the last run
            if (empty != null) Files.deleteIfExists(empty.path);
            Path path = j.options.dir().resolve(String.format("%020d.seg", first));
            Segment seg = new Segment(first, path);
            FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            Map<String, Long> seqs = new TreeMap<>();
            j.ledger.sensors.forEach((sensor, ids) -> {
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
            j.fsyncs += 2;
            j.bytesWritten += n;
            seg.bytes = n;
            j.segments.put(first, seg);
            active = ch;
            activeSegment = seg;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot start a journal segment in " + j.options.dir(), e);
        }
    }

    /** A roll that may fail (a full disk): then the next commit tries again. Holds the lock. */
    void rollOrMark() {
        try {
            roll();
        } catch (java.io.UncheckedIOException e) {
            needRoll = true;
            j.lastError = "cannot start a journal segment in " + j.options.dir() + ": " + e.getCause();
            log.error(j.lastError);
            j.onChange.run();
        }
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(j.options.dir(), StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** Bounds, deletion of acknowledged segments, the acked file; serves the requests taken before it. On the committer thread. */
    private void maintain() {
        long now = j.clock.millis(), taken;
        synchronized (j.lock) {
            taken = maintainTaken;
            long total = 0;
            for (Segment s : j.segments.values()) total += s.bytes;
            while (!j.dropNewest && total > j.maxBytes && j.segments.size() > 1) {
                Segment oldest = j.segments.firstEntry().getValue();
                if (oldest == activeSegment) break;
                total -= oldest.bytes;
                dropSegment(oldest, "maxBytes");
            }
            while (j.segments.size() > 1) {
                Segment oldest = j.segments.firstEntry().getValue();
                if (oldest == activeSegment || oldest.lastTs == 0 || now - oldest.lastTs <= j.maxAge.toMillis()) break;
                dropSegment(oldest, "maxAge");
            }
            // The active segment itself, once everything in it is too old: roll, so it can go next time.
            if (activeSegment != null && activeSegment.lastTs > 0 && now - activeSegment.lastTs > j.maxAge.toMillis() && activeSegment.lastId >= activeSegment.firstId) {
                rollOrMark();
            }
            j.totalBytes = 0;
            for (Segment s : j.segments.values()) j.totalBytes += s.bytes;
        }
        deleteAcknowledged();
        acked.saveIfDue(now, false);
        maintainedUpTo = taken;
    }

    /**
     * Drops a whole segment to keep a bound, counting its unacknowledged readings (every older
     * segment is gone already, so they are the sensors' waiting ids up to its last). Holds the lock.
     */
    private void dropSegment(Segment s, String reason) {
        Map<String, Long> counts = new TreeMap<>();
        j.ledger.sensors.forEach((sensor, ids) -> {
            int n = ids.waiting.removeUpTo(s.lastId);
            if (n > 0) counts.put(sensor, (long) n);
        });
        counts.forEach((sensor, n) -> j.drop(sensor, reason, n));
        long n = counts.values().stream().mapToLong(Long::longValue).sum();
        j.ledger.unacked -= n;
        if (n > 0) log.warn("journal over its {} bound: dropped the oldest {} unacknowledged readings {}", reason, n, counts);
        try {
            Files.deleteIfExists(s.path);
        } catch (IOException e) {
            log.error("cannot drop journal segment {}: {}", s.path, e.toString());
        }
        j.segments.remove(s.firstId);
        j.recent.dropUpTo(s.lastId);
        if (j.ledger.ackedId < s.lastId) {
            j.ledger.ackedId = s.lastId;
            j.ledger.version++;
        }
        j.ledger.recomputeAcked(j.committedId);
        j.lock.notifyAll();
    }

    void deleteAcknowledged() {
        List<Segment> gone = new ArrayList<>();
        synchronized (j.lock) {
            for (Segment s : j.segments.values()) {
                if (s == activeSegment || s.lastId > j.ledger.ackedId) break;
                gone.add(s);
            }
            for (Segment s : gone) j.segments.remove(s.firstId);
        }
        for (Segment s : gone) {
            try {
                Files.deleteIfExists(s.path);
            } catch (IOException e) {
                log.warn("cannot delete journal segment {}: {}", s.path, e.toString());
            }
        }
    }

    /** Forces and closes the active segment's file (the journal is closing). */
    void close() throws IOException {
        if (active != null) {
            active.force(false);
            active.close();
        }
    }
}
