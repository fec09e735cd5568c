package dev.meerkat.agent.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.time.ManualClock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {
    @TempDir
    Path dir;

    static final Duration WAIT = Duration.ofSeconds(5);

    final ManualClock clock = new ManualClock(Instant.parse("2026-11-21T12:00:00Z"));

    Journal open(long maxBytes) throws IOException {
        return Journal.open(Journal.Options.of(dir, maxBytes, Duration.ofDays(7)), clock);
    }

    void append(Journal j, String sensor, int n) {
        for (int i = 0; i < n; i++) {
            long seq = j.nextSeq(sensor);
            j.append(sensor, seq, clock.millis(), "p/f/d/sensors/" + sensor, 1,
                    ("{\"sensor\":\"" + sensor + "\",\"seq\":" + seq + ",\"pad\":\"" + "x".repeat(100) + "\"}").getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Everything readable now, in order. */
    static List<Record> readAll(Journal j) throws InterruptedException {
        List<Record> all = new ArrayList<>();
        long after = j.ackedId();
        while (true) {
            Journal.Batch b = j.read(after, 500, Duration.ofMillis(200));
            if (b.records().isEmpty()) return all;
            all.addAll(b.records());
            after = b.upTo();
        }
    }

    /** The bytes of every segment in {@code dir}. */
    static long segmentBytes(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".seg")).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    static Path newestSegment(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".seg")).sorted().reduce((a, b) -> b).orElseThrow();
        }
    }

    @Test
    void readingsComeBackInOrderAfterAReopenAndSeqContinues() throws Exception {
        try (Journal j = open(64L << 20)) {
            append(j, "a", 100);
            append(j, "b", 50);
            assertTrue(j.read(0, 1, WAIT).records().size() == 1);
        }
        try (Journal j = open(64L << 20)) {
            List<Record> all = readAll(j);
            assertEquals(150, all.size());
            for (int i = 1; i < all.size(); i++) assertTrue(all.get(i).id() > all.get(i - 1).id());
            List<Long> seqA = all.stream().filter(r -> r.sensor().equals("a")).map(Record::seq).toList();
            for (int i = 0; i < 100; i++) assertEquals(i + 1, seqA.get(i));
            assertEquals(101, j.nextSeq("a"));
            assertEquals(51, j.nextSeq("b"));
            assertEquals(1, j.nextSeq("new"));
            assertEquals(150, j.recovery().unacknowledged());
        }
    }

    @Test
    void eachSensorsEnqueuedCountsThisRunAndWhatItFoundWaiting() throws Exception {
        try (Journal j = open(64L << 20)) {
            append(j, "a", 30);
            append(j, "b", 5);
            assertEquals(java.util.Map.of("a", 30L, "b", 5L), j.counters().enqueued());
            List<Record> all = readAll(j);
            j.acknowledged("a", all.stream().filter(r -> r.sensor().equals("a")).toList().get(9).id()); // a's first 10
        }
        try (Journal j = open(64L << 20)) {
            // This run sends a's 20 and b's 5 left waiting: its enqueued, as the total counts them (AgentViews).
            assertEquals(java.util.Map.of("a", 20L, "b", 5L), j.counters().enqueued());
            append(j, "b", 1);
            assertEquals(java.util.Map.of("a", 20L, "b", 6L), j.counters().enqueued());
        }
    }

    @Test
    void acknowledgedReadingsAreNotReadAgainAndSeqSurvivesTheirDeletion() throws Exception {
        long segmentBytes = 16 * 1024;
        try (Journal j = Journal.open(new Journal.Options(dir, 64L << 20, Duration.ofDays(7), segmentBytes, Duration.ofMillis(2)), clock)) {
            append(j, "a", 1000); // about ten segments
            List<Record> all = readAll(j);
            assertEquals(1000, all.size());
            j.acknowledged("a", all.get(all.size() - 1).id());
            assertEquals(0, j.depth());
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.filter(p -> p.toString().endsWith(".seg")).count() <= 2, "acknowledged segments are deleted");
        }
        try (Journal j = open(64L << 20)) {
            assertEquals(0, readAll(j).size());
            assertEquals(1001, j.nextSeq("a"), "the checkpoint keeps the seq of readings long delivered");
        }
    }

    @Test
    void aTornTailIsCutAndEveryIntactRecordKept() throws Exception {
        try (Journal j = open(64L << 20)) {
            append(j, "a", 20);
            readAll(j);
        }
        Path seg = newestSegment(dir);
        // Half of a record: its header says 500 bytes, 10 follow.
        ByteBuffer half = ByteBuffer.allocate(30).putInt(Codec.MAGIC).putInt(500).putInt(0).putLong(99).put(new byte[10]);
        Files.write(seg, half.array(), StandardOpenOption.APPEND);
        long sizeBefore = Files.size(seg);
        try (Journal j = open(64L << 20)) {
            assertEquals(20, readAll(j).size());
            assertEquals(30, j.recovery().tornBytes());
            assertEquals(sizeBefore - 30, Files.size(seg), "the torn tail is cut from the file");
            assertEquals(21, j.nextSeq("a"));
        }
    }

    @Test
    void aZeroFilledTailIsCut() throws Exception {
        try (Journal j = open(64L << 20)) {
            append(j, "a", 20);
            readAll(j);
        }
        Files.write(newestSegment(dir), new byte[4096], StandardOpenOption.APPEND);
        try (Journal j = open(64L << 20)) {
            assertEquals(20, readAll(j).size());
            assertEquals(4096, j.recovery().tornBytes());
        }
    }

    @Test
    void aCorruptedRecordInTheMiddleIsSkippedAndTheRestKept() throws Exception {
        try (Journal j = open(64L << 20)) {
            append(j, "a", 20);
            readAll(j);
        }
        Path seg = newestSegment(dir);
        byte[] bytes = Files.readAllBytes(seg);
        // Find the 10th reading (after the checkpoint) and flip a byte in its body.
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        int at = 0;
        for (int i = 0; i < 11; i++) at += ((Codec.Ok) Codec.decode(buf, at)).size();
        bytes[at + Codec.HEADER + 5] ^= 0x55;
        Files.write(seg, bytes);
        try (Journal j = open(64L << 20)) {
            List<Record> all = readAll(j);
            assertEquals(19, all.size());
            assertTrue(all.stream().noneMatch(r -> r.seq() == 11), "the damaged reading (the 11th) is not sent");
            assertTrue(j.recovery().corruptBytes() > 0);
            assertTrue(j.recovery().problems().get(0).contains("checksum mismatch"), j.recovery().problems().toString());
            assertEquals(21, j.nextSeq("a"));
        }
    }

    @Test
    void aCorruptedRecordJustBeforeAChunkEndDoesNotTakeTheNextRecordWithIt() throws Exception {
        try (Journal j = open(64L << 20)) {
            append(j, "a", 12_000); // about 2 MiB: a read of them all goes in chunks of 1 MiB
            readAll(j);
        }
        Path seg = newestSegment(dir);
        byte[] bytes = Files.readAllBytes(seg);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        int chunk = Codec.HEADER + Codec.MAX_BODY, at = 0, before = -1, n = 0;
        List<Integer> starts = new ArrayList<>();
        while (at < bytes.length) {
            starts.add(at);
            int size = ((Codec.Ok) Codec.decode(buf, at)).size();
            if (at < chunk && at + size > chunk) before = starts.get(starts.size() - 2); // the record before the one the chunk cuts
            at += size;
        }
        assertTrue(before > 0, "a record straddles the first chunk's end");
        List<Integer> damaged = new ArrayList<>(List.of(before));
        for (int i = 101; i < starts.size(); i += 997) if (starts.get(i) != before) damaged.add(starts.get(i));
        for (int d : damaged) bytes[d + Codec.HEADER + 5] ^= 0x55;
        Files.write(seg, bytes);
        try (Journal j = open(64L << 20)) {
            List<Record> all = new ArrayList<>(j.read(j.ackedId(), 20_000, WAIT).records());
            assertEquals(12_000 - damaged.size(), all.size(), "every intact reading, in one read across the chunks");
            for (int i = 1; i < all.size(); i++) assertTrue(all.get(i).id() > all.get(i - 1).id());
            n = all.size();
        }
        try (Journal j = open(64L << 20)) {
            assertEquals(n, readAll(j).size(), "and in reads of 500");
        }
    }

    @Test
    void theRecentReadingsAreAGaplessRunOfTheNewest() {
        RecentRecords r = new RecentRecords();
        assertTrue(r.isEmpty());
        List<Record> batch = new ArrayList<>();
        for (long id = 1; id <= RecentRecords.CAPACITY + 10; id++) {
            batch.add(new Record(id, id % 3 == 0 ? "b" : "a", id, 0, "t", 1, new byte[0]));
        }
        r.addAll(batch.subList(0, 100));
        r.addAll(batch.subList(100, batch.size()));
        assertEquals(11, r.firstId(), "the oldest ten made room");
        assertEquals(RecentRecords.CAPACITY + 10, r.lastId());
        assertTrue(r.covers(10, RecentRecords.CAPACITY + 10));
        assertFalse(r.covers(9, RecentRecords.CAPACITY + 10), "id 10 is not held");
        assertFalse(r.covers(10, RecentRecords.CAPACITY + 11), "a committed reading not held");
        List<Record> b = r.after(20, "b", 3);
        assertEquals(List.of(21L, 24L, 27L), b.stream().map(Record::id).toList());
        assertEquals(List.of(4000L, 4001L), r.after(3999, null, 2).stream().map(Record::id).toList());
        r.dropUpTo(4000);
        assertEquals(4001, r.firstId());
        assertEquals(4001, r.after(0, null, 1).get(0).id());
        r.addAll(List.of(new Record(RecentRecords.CAPACITY + 20, "a", 1, 0, "t", 1, new byte[0])));
        assertEquals(RecentRecords.CAPACITY + 20, r.firstId(), "a gap starts the run again");
        assertEquals(1, r.after(0, null, 10).size());
    }

    @Test
    void maxBytesDropsTheOldestAndCountsThem() throws Exception {
        long max = 128 * 1024;
        try (Journal j = open(max)) {
            append(j, "a", 3000); // about 500 KB: four times the bound
            append(j, "b", 10);
            maintained(j); // a commit and the bounds check
            Journal.Counters c = j.counters();
            long droppedA = c.dropped().getOrDefault("a", java.util.Map.of()).getOrDefault("maxBytes", 0L);
            assertTrue(droppedA > 1500, "dropped " + c.dropped());
            List<Record> left = readAll(j);
            assertEquals(3010 - droppedA, left.size(), "every reading is either still there or counted as dropped: " + j.counters() + " acked " + j.ackedId() + " committed " + j.committedId() + " last " + j.lastId());
            long onDisk = segmentBytes(dir);
            assertTrue(onDisk <= max + Journal.Options.of(dir, max, Duration.ofDays(1)).segmentBytes(), "on disk " + onDisk);
            // The survivors are the newest, in order: the first left is the one after the last dropped.
            assertEquals(droppedA + 1, left.stream().filter(r -> r.sensor().equals("a")).findFirst().orElseThrow().seq());
        }
    }

    @Test
    void aSmallerBoundSetLiveIsKeptInSmallSteps() throws Exception {
        try (Journal j = open(64L << 20)) { // 4 MiB segments for a 64 MiB bound
            j.bounds(1L << 20, Duration.ofDays(7), false); // then 1 MiB: segments of 128 KiB
            append(j, "a", 20_000); // about 3 MB
            maintained(j);
            long onDisk = segmentBytes(dir);
            assertTrue(onDisk <= (1L << 20) + (128 << 10), "on disk " + onDisk);
            long dropped = j.counters().dropped().get("a").get("maxBytes");
            assertEquals(20_000, dropped + readAll(j).size());
        }
    }

    @Test
    void maxAgeDropsReadingsOlderThanTheBound() throws Exception {
        try (Journal j = Journal.open(new Journal.Options(dir, 64L << 20, Duration.ofHours(1), 16 * 1024, Duration.ofMillis(2)), clock)) {
            for (int i = 0; i < 300; i++) {
                long seq = j.nextSeq("a");
                j.append("a", seq, clock.millis(), "t", 1, new byte[100]);
            }
            j.read(j.lastId() - 1, 1, WAIT);
            clock.advance(Duration.ofHours(2));
            for (int i = 0; i < 10; i++) {
                long seq = j.nextSeq("a");
                j.append("a", seq, clock.millis(), "t", 1, new byte[100]);
            }
            maintained(j);
            long dropped = j.counters().dropped().get("a").get("maxAge");
            assertEquals(300, dropped + readAll(j).stream().filter(r -> r.seq() <= 300).count(), "all old readings accounted for");
            // Bounds act on whole segments: the old readings sharing the active segment with new ones stay.
            assertTrue(dropped >= 300 - 16 * 1024 / 140, "dropped " + dropped);
        }
    }

    @Test
    void groupCommitKeepsFsyncsFarBelowAppends() throws Exception {
        try (Journal j = open(64L << 20)) {
            append(j, "a", 20_000);
            j.read(j.lastId() - 1, 1, WAIT);
            Journal.Counters c = j.counters();
            assertEquals(20_000, c.committed());
            assertTrue(c.fsyncs() < 500, "fsyncs " + c.fsyncs());
            double amplification = (double) c.bytesWritten() / c.payloadBytes();
            assertTrue(amplification < 1.5, "write amplification " + amplification);
        }
    }

    @Test
    void aReaderFollowingTheAppendsSeesEveryReadingOnceInOrder() throws Exception {
        try (Journal j = Journal.open(new Journal.Options(dir, 64L << 20, Duration.ofDays(7), 16 * 1024, Duration.ofMillis(2)), clock)) {
            Thread writer = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 5000; i++) {
                    append(j, "a", 1);
                    if (i % 100 == 0) Thread.yield();
                }
            });
            long after = 0, expected = 1;
            while (expected <= 5000) {
                Journal.Batch b = j.read(after, 300, WAIT);
                for (Record r : b.records()) assertEquals(expected++, r.seq(), "after id " + after);
                after = b.upTo();
            }
            writer.join();
        }
    }

    /** Mounts a 256 KiB tmpfs at {@code at}; false where that is not allowed (not root). */
    static boolean mountSmallDisk(Path at) throws Exception {
        Files.createDirectories(at);
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", at.toString()).redirectErrorStream(true).start();
        return p.waitFor() == 0;
    }

    @Test
    void aFullDiskIsCountedAndReportedAndTheJournalGoesOnOnceThereIsRoom() throws Exception {
        Path small = dir.resolve("small");
        org.junit.jupiter.api.Assumptions.assumeTrue(mountSmallDisk(small), "needs root to mount a small tmpfs (CI runs as root)");
        try (Journal j = Journal.open(new Journal.Options(small, 64L << 20, Duration.ofDays(7), 16 * 1024, Duration.ofMillis(2)), clock)) {
            append(j, "a", 3000); // about 450 KB into 256 KiB
            Await.until(() -> j.counters().lastError() != null);
            Await.until(() -> { synchronized (j.lock) { return j.committedId >= j.lastId(); } }); // the rest written or counted
            Journal.Counters c = j.counters();
            assertTrue(c.lastError().contains("No space left on device"), c.lastError());
            long lost = c.dropped().get("a").get("diskFull"); // a write error that is a full disk is named so
            assertTrue(lost > 0);
            List<Record> kept = readAll(j);
            assertEquals(3000, kept.size() + lost, "every reading is either on disk or counted as lost");
            // Delivered: its segments go, the room comes back, and the journal goes on by itself.
            j.acknowledged("a", kept.get(kept.size() - 1).id());
            maintained(j);
            long before = j.lastId();
            append(j, "a", 100);
            Await.until(() -> j.counters().lastError() == null);
            // A read returns what is committed when it runs, and the error clears with the first
            // commit: read on until all 100 are in (or the time is up; then the count below fails).
            List<Record> after = new ArrayList<>();
            long upTo = before, end = System.nanoTime() + 10_000_000_000L;
            while (after.size() < 100 && System.nanoTime() < end) {
                Journal.Batch b = j.read(upTo, 1000, WAIT);
                after.addAll(b.records());
                upTo = b.upTo();
            }
            assertEquals(100, after.size());
            assertEquals(3001, after.get(0).seq(), "seq goes on across the lost readings' numbers");
        } finally {
            new ProcessBuilder("umount", small.toString()).start().waitFor();
        }
    }

    /**
     * Waits until the journal's thread has kept the bounds (and deleted what was acknowledged) after
     * everything appended so far was committed: asked at once, instead of sleeping on its second.
     */
    static void maintained(Journal j) throws InterruptedException {
        long request = j.writer.maintainSoon();
        Await.until(() -> j.writer.maintainedUpTo >= request);
    }

    /** Polls a condition for up to 10 s. */
    static final class Await {
        static void until(java.util.function.BooleanSupplier c) throws InterruptedException {
            long end = System.nanoTime() + 10_000_000_000L;
            while (!c.getAsBoolean()) {
                if (System.nanoTime() > end) throw new AssertionError("timed out");
                Thread.sleep(20);
            }
        }
    }

    @Test
    void anEmptyJournalHasNothingToSayAboutAge() throws Exception {
        try (Journal j = open(64L << 20)) {
            assertNull(j.oldestUnacknowledged());
            assertEquals(0, j.depth());
        }
    }

    static List<Long> ids(List<Record> records, String sensor) {
        return records.stream().filter(r -> r.sensor().equals(sensor)).map(Record::id).toList();
    }

    @Test
    void aSensorAcknowledgedAheadOfAnotherStaysAcknowledgedAfterAReopen() throws Exception {
        List<Long> a;
        try (Journal j = open(64L << 20)) {
            for (int i = 0; i < 20; i++) {
                append(j, "a", 1);
                append(j, "b", 1);
            }
            List<Record> all = readAll(j);
            a = ids(all, "a");
            List<Long> b = ids(all, "b");
            j.acknowledged("b", b.get(19));
            assertEquals(20, j.depth());
            assertEquals(a.get(0) - 1, j.ackedId(), "the watermark waits for a");
            j.acknowledged("a", a.get(4));
            assertEquals(15, j.depth());
            assertEquals(a.get(5) - 1, j.ackedId());
            assertEquals(List.of(new Journal.Waiting("a", a.get(5), a.get(19))), j.waiting());
            assertEquals(a.subList(5, 10), ids(j.read("a", a.get(4), 5).records(), "a"), "a sensor's own readings, in order");
            Journal.Batch rest = j.read("a", a.get(9), 100);
            assertEquals(a.subList(10, 20), ids(rest.records(), "a"));
            assertTrue(rest.upTo() >= a.get(19));
        }
        try (Journal j = open(64L << 20)) {
            assertEquals(15, j.depth());
            assertEquals(15, j.recovery().unacknowledged());
            assertEquals(List.of(new Journal.Waiting("a", a.get(5), a.get(19))), j.waiting(), "b is not sent again");
            assertEquals(a.get(5), readAll(j).get(0).id(), "the oldest waiting");
            j.acknowledged("a", a.get(19));
            assertEquals(0, j.depth());
            assertEquals(j.committedId(), j.ackedId());
            append(j, "b", 1);
            assertTrue(readAll(j).get(0).id() > a.get(19), "ids are never given twice");
        }
    }

    @Test
    void readingsAcknowledgedAheadAreNotCountedAsDroppedByABound() throws Exception {
        long max = 1L << 20;
        try (Journal j = open(max)) {
            for (int i = 0; i < 500; i++) {
                append(j, "a", 1);
                append(j, "b", 1);
            }
            List<Record> first = readAll(j);
            j.acknowledged("b", ids(first, "b").get(499));
            append(j, "a", 6000); // about 1.1 MB: past the bound, the oldest segments go
            maintained(j);
            Journal.Counters c = j.counters();
            long droppedA = c.dropped().getOrDefault("a", java.util.Map.of()).getOrDefault("maxBytes", 0L);
            assertTrue(droppedA > 500, "dropped " + c.dropped());
            assertNull(c.dropped().get("b"), "b was acknowledged: nothing of it is lost " + c.dropped());
            assertEquals(6500 - droppedA, j.depth(), "every reading of a is waiting or counted as dropped");
        }
    }

    @Test
    void anIdQueueGrowsShrinksAndKeepsLargeIdsApart() {
        IdQueue q = new IdQueue();
        for (long id = 1; id <= 100; id++) q.add(id * 3);
        assertEquals(100, q.size());
        assertEquals(3, q.first());
        assertEquals(10, q.removeUpTo(31));
        assertEquals(33, q.first());
        assertTrue(q.remove(150));
        assertTrue(!q.remove(150));
        assertEquals(89, q.size());
        q.removeUpTo(300);
        assertTrue(q.isEmpty());
        q.add(5);
        q.add(1000);
        q.removeUpTo(5);
        long far = 1000L + Integer.MAX_VALUE - 10; // past 2^31 above the first base: the queue rebases on 1000
        q.add(far);
        assertEquals(1000, q.first());
        assertEquals(far, q.last());
        assertEquals(1, q.removeUpTo(1000));
        assertEquals(far, q.first());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> q.add(far + Integer.MAX_VALUE + 1L));
    }
}
