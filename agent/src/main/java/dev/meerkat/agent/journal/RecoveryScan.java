package dev.meerkat.agent.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scan of what the last run left in a journal directory ({@link Journal#open}): every segment
 * read record by record, damage skipped and counted, a torn tail of the newest segment cut, the
 * acked file and the seq reservations read. What it found, the journal takes over; nothing here
 * is shared with another thread.
 *
 * <p>It never fails for the journal's own sake: a segment that cannot
 * be read (its permissions, a bad sector, a directory in its place) is set aside under a new
 * name and reported with the readings it held; a directory that cannot be made or listed, or a
 * full disk, leave a journal that counts what it cannot keep until it can (the agent samples on).
 *
 * <p>Recovery is honest about what it lost: the ids between the last intact reading before
 * damage and the first after it (damaged records, a segment's damaged end, segments set aside)
 * are readings lost, counted as dropped with reason {@code recovery} (under
 * {@link Journal#UNKNOWN_SENSOR}: damaged bytes do not tell whose they were), once for each damage
 * (the acked file remembers what was counted). A torn tail of the newest segment held readings
 * never committed, and is not counted. An acked file that does not match its checksum, or whose
 * watermark lies beyond the journal's end, is ignored: what is not known to be acknowledged is
 * sent again. After new damage, each sensor's {@code seq} goes on past its reservation
 * ({@link SeqReservations}), so no {@code seq} is handed out twice; so it does after a run that
 * sent readings before they were on the card and did not stop in this boot ({@link RunMarker}):
 * each such sensor's skipped range is in {@link #skipped}, for the status to explain the gap.
 */
final class RecoveryScan {
    private static final Logger log = LoggerFactory.getLogger(Journal.class);

    private final Path dir;
    final List<String> problems = new ArrayList<>();
    final TreeMap<Long, Segment> segments = new TreeMap<>();
    /** What waits, the marks, the drops, the damage counted: the journal takes it over. */
    final Ledger ledger = new Ledger();
    SeqReservations seqs;
    long nextId;
    long records, unacked, corrupt, torn, lost;
    /** Damage not counted at an earlier start was found. */
    boolean newDamage;
    private final String boot;
    /** Each sensor whose seq jumps past its reservation: why, and which seqs are not used. */
    final Map<String, String> skipped = new TreeMap<>();

    private RecoveryScan(Path dir, String boot) {
        this.dir = dir;
        this.boot = boot;
    }

    /** @param boot this boot's id ({@link RunMarker#currentBoot()}) */
    static RecoveryScan of(Path dir, String boot) {
        RecoveryScan scan = new RecoveryScan(dir, boot);
        scan.run();
        return scan;
    }


    private void run() {
        List<Path> files = List.of();
        try {
            Files.createDirectories(dir);
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().toList();
            }
        } catch (IOException | RuntimeException e) {
            problems.add(dir + ": cannot be read (" + e + "); nothing recovered");
        }
        AckedMarks saved = AckedMarks.read(dir.resolve("acked"), problems);
        seqs = SeqReservations.open(dir.resolve("seqs"), problems);
        RunMarker lastRun = RunMarker.read(dir.resolve("run"), problems); // null: there was none
        long bound = idBound(files);
        long savedMax = Math.max(saved.watermark(), saved.marks().values().stream().mapToLong(Long::longValue).max().orElse(0));
        if (savedMax > bound) {
            problems.add("acked: its watermark " + savedMax + " lies beyond the journal's end (at most " + bound
                    + "); ignored: readings not known to be acknowledged are sent again");
            saved = new AckedMarks(0, Map.of(), saved.dropped(), saved.lastDropAt(), saved.counted());
        }
        ledger.ackedId = saved.watermark();
        saved.dropped().forEach((sensor, m) -> ledger.dropped.put(sensor, new TreeMap<>(m)));
        ledger.lastDroppedAt = saved.lastDropAt();
        long lastIdSeen = 0;
        boolean gapOpen = false;
        // The last intact id before the newest damage that no later checkpoint covers; -1: none. A
        // segment's head checkpoint holds every sensor's last seq, so damage before it hides none.
        long damagePoint = -1;
        Map<String, Long> lastRecord = new HashMap<>(); // each sensor's newest intact reading found
        long gapFrom = 0;
        String gapKey = null;
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            String name = f.getFileName().toString();
            boolean newest = i == files.size() - 1;
            long first;
            try {
                first = Long.parseLong(name.replace(".seg", ""));
            } catch (NumberFormatException e) {
                problems.add(name + ": not a segment name, left alone");
                continue;
            }
            java.util.Set<Long> counted = saved.counted().getOrDefault(name, java.util.Set.of());
            if (!counted.isEmpty()) ledger.countedDamage.put(name, new java.util.TreeSet<>(counted));
            if (gapOpen) {
                // The damage before this segment: the ids up to its first are lost (those not acknowledged).
                lost += Math.max(0, first - Math.max(gapFrom, ledger.ackedId + 1));
                gapOpen = false;
            }
            ByteBuffer buf;
            try {
                buf = ByteBuffer.wrap(Files.readAllBytes(f));
            } catch (IOException | OutOfMemoryError e) {
                problems.add(setAside(f, e));
                newDamage = true;
                damagePoint = lastIdSeen;
                gapOpen = true;
                gapFrom = first;
                gapKey = null;
                continue;
            }
            Segment seg = new Segment(first, f);
            int at = 0, goodEnd = 0;
            while (at < buf.limit()) {
                Codec.Decoded d = Codec.decode(buf, at);
                if (d instanceof Codec.Ok ok && (ok.record() == null || ok.id() > lastIdSeen)) {
                    if (ok.record() != null) {
                        Record r = ok.record();
                        lastIdSeen = r.id();
                        seg.lastId = r.id();
                        records++;
                        SensorIds ids = ledger.ids(r.sensor());
                        ids.newest = r.id();
                        lastRecord.put(r.sensor(), r.id());
                        if (r.id() > ledger.ackedId && r.id() > saved.marks().getOrDefault(r.sensor(), 0L)) {
                            unacked++;
                            ledger.unacked++;
                            ids.waiting.add(r.id());
                        }
                        ids.seen(r.seq());
                        seg.lastTs = Math.max(seg.lastTs, r.tsMillis());
                    } else {
                        ok.checkpoint().forEach((s, q) -> ledger.ids(s).seen(q));
                        damagePoint = -1;
                    }
                    at += ok.size();
                    goodEnd = at;
                    continue;
                }
                // Damaged here: look for the next intact record.
                boolean fresh = !counted.contains((long) at);
                if (fresh) {
                    ledger.countedDamage.computeIfAbsent(name, k -> new java.util.TreeSet<>()).add((long) at);
                    newDamage = true;
                }
                damagePoint = lastIdSeen;
                int next = nextIntact(buf, at + 1, lastIdSeen);
                long from = Math.max(seg.lastId + 1, first);
                if (next < 0) {
                    long rest = buf.limit() - at;
                    if (newest) {
                        torn += rest;
                        problems.add(name + ": cut " + rest + " bytes of torn or zero-filled tail at offset " + at);
                        // A tail torn by a power cut held readings never committed: their seqs were never
                        // sent, and only a head torn with it (the checkpoint) leaves a seq unknown.
                        if (at > 0) damagePoint = -1;
                    } else {
                        corrupt += rest;
                        problems.add(name + ": skipped " + rest + " damaged bytes at offset " + at + " to the end");
                        if (fresh) {
                            gapOpen = true;
                            gapFrom = from;
                        }
                    }
                    break;
                }
                corrupt += next - at;
                problems.add(name + ": skipped " + (next - at) + " damaged bytes at offset " + at
                        + (d instanceof Codec.Bad b ? " (" + b.why() + ")" : d instanceof Codec.Ok ? " (id out of order)" : ""));
                if (fresh) {
                    if (Codec.decode(buf, next) instanceof Codec.Ok ok && ok.record() != null) {
                        lost += Math.max(0, ok.id() - Math.max(from, ledger.ackedId + 1));
                    }
                }
                at = next;
            }
            if (newest && goodEnd < buf.limit()) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                    ch.truncate(goodEnd);
                    ch.force(true);
                } catch (IOException e) {
                    // Never written after (the next segment is a new one); the next recovery cuts it again.
                    problems.add(name + ": its torn tail cannot be cut now (" + e + ")");
                }
            }
            seg.bytes = newest ? goodEnd : buf.limit();
            segments.put(first, seg);
        }
        if (gapOpen) problems.add("the readings after the last damage cannot be counted (no segment follows it)");
        // Never an id again that a mark or a segment's name has covered, even when their readings are gone.
        long highest = Math.max(lastIdSeen, ledger.ackedId);
        for (Segment s : segments.values()) highest = Math.max(highest, s.firstId - 1);
        for (var m : saved.marks().entrySet()) {
            highest = Math.max(highest, m.getValue());
            SensorIds ids = ledger.ids(m.getKey());
            ids.newest = Math.max(ids.newest, m.getValue());
        }
        nextId = highest + 1;
        if (ledger.ackedId > nextId - 1) ledger.ackedId = nextId - 1;
        if (lost > 0) problems.add(lost + " readings lost to damage, counted as dropped (recovery)");
        boolean cut = lastRun != null && lastRun.mayHaveLostSent(boot);
        if (damagePoint >= 0 || cut) {
            // Records were lost after the last checkpoint (or, after a power cut, records written but
            // not yet forced to the card): a sensor may have had its last seq among them, even one
            // already sent. It goes on past what was reserved.
            if (!seqs.readable()) problems.add("records may be lost and the seq reservations cannot be read: a seq may repeat");
            if (cut) {
                problems.add("the agent did not stop before the machine restarted (a power cut?), and it sent readings before they were"
                        + " on the card (buffer.syncInterval " + lastRun.windowMillis() + "ms): readings the broker had not acknowledged"
                        + " within that long of the cut are lost");
            }
            long point = cut ? Long.MAX_VALUE : damagePoint;
            seqs.all().forEach((sensor, reserved) -> {
                SensorIds ids = ledger.ids(sensor);
                if (lastRecord.getOrDefault(sensor, 0L) <= point && ids.lastSeq < reserved) {
                    String range = "seq " + (ids.lastSeq + 1) + "-" + reserved;
                    problems.add("sensor " + sensor + ": seq goes on after " + reserved + " (its reservation), past readings that may be lost");
                    skipped.put(sensor, range + " not used: " + (cut
                            ? "the machine restarted without the agent stopping; readings of the last " + lastRun.windowMillis()
                                    + "ms the broker had not acknowledged were lost with the page cache, the rest were never taken"
                            : "journal records were damaged; the readings among them are counted as dropped (recovery)"));
                    ids.seen(reserved);
                }
            });
        }
    }

    /**
     * The highest id the segments can hold: the newest's name (one past the ids before it) plus as
     * many records as its size could hold. An acked watermark above it cannot be right.
     */
    private static long idBound(List<Path> files) {
        for (int i = files.size() - 1; i >= 0; i--) {
            Path f = files.get(i);
            try {
                long first = Long.parseLong(f.getFileName().toString().replace(".seg", ""));
                return first - 1 + Math.max(0, Files.size(f)) / Codec.HEADER + 1;
            } catch (NumberFormatException | IOException e) {
                // not a segment, or unreadable: the one before it
            }
        }
        return Long.MAX_VALUE; // no segment to bound it: nothing to send again either
    }

    /** A segment that cannot be read: renamed out of the journal's way (kept for a person to look at), reported. */
    private String setAside(Path f, Throwable why) {
        Path aside = f.resolveSibling(f.getFileName() + ".unreadable");
        try {
            Files.move(f, aside, StandardCopyOption.REPLACE_EXISTING);
            log.error("journal segment {} cannot be read ({}); set aside as {}", f, why.toString(), aside.getFileName());
            return f.getFileName() + ": cannot be read (" + why + "), set aside as " + aside.getFileName();
        } catch (IOException | RuntimeException e) {
            log.error("journal segment {} cannot be read ({}) nor renamed ({}); skipped", f, why.toString(), e.toString());
            return f.getFileName() + ": cannot be read (" + why + ") nor renamed; skipped";
        }
    }

    private static int nextIntact(ByteBuffer buf, int from, long afterId) {
        for (int p = from; p + Codec.HEADER <= buf.limit(); p++) {
            if (buf.getInt(p) != Codec.MAGIC) continue;
            if (Codec.decode(buf, p) instanceof Codec.Ok ok && (ok.record() == null || ok.id() > afterId)) return p;
        }
        return -1;
    }

}
