package dev.meerkat.agent.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.time.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway that never stays down, and a recovery that says what it lost: damaged journals (a
 * segment that cannot be read, one cut in half, every one zero-filled, a forged acked file), a full
 * disk at start, drop counts across restarts, and no {@code seq} ever handed out twice.
 */
class JournalRecoveryTest {
    @TempDir
    Path dir;

    final ManualClock clock = new ManualClock(Instant.parse("2026-11-21T12:00:00Z"));

    Journal open() {
        return Journal.open(new Journal.Options(dir, 64L << 20, Duration.ofDays(7), 16 * 1024, Duration.ofMillis(2)), clock);
    }

    void append(Journal j, String sensor, int n) {
        for (int i = 0; i < n; i++) {
            long seq = j.nextSeq(sensor);
            j.append(sensor, seq, clock.millis(), "p/f/d/sensors/" + sensor, 1,
                    ("{\"sensor\":\"" + sensor + "\",\"seq\":" + seq + ",\"pad\":\"" + "x".repeat(100) + "\"}").getBytes(StandardCharsets.UTF_8));
        }
    }

    List<Path> segments() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".seg")).sorted().toList();
        }
    }

    /** 400 readings of two sensors in several segments, none acknowledged; the seqs handed out. */
    Set<String> fill() throws Exception {
        Set<String> seqs = new HashSet<>();
        try (Journal j = open()) {
            for (int i = 0; i < 200; i++) {
                append(j, "a", 1);
                append(j, "b", 1);
            }
            List<Record> all = JournalTest.readAll(j);
            assertEquals(400, all.size());
            for (Record r : all) seqs.add(r.sensor() + "#" + r.seq());
        }
        assertTrue(segments().size() >= 4, "several segments: " + segments());
        return seqs;
    }

    static long recoveryDrops(Journal j) {
        var byReason = j.counters().dropped().get(Journal.UNKNOWN_SENSOR);
        return byReason == null ? 0 : byReason.getOrDefault("recovery", 0L);
    }

    @Test
    void aSegmentThatCannotBeReadIsSetAsideCountedAndTheJournalStarts() throws Exception {
        fill();
        List<Path> segs = segments();
        Path second = segs.get(1);
        long held = Long.parseLong(segs.get(2).getFileName().toString().replace(".seg", ""))
                - Long.parseLong(second.getFileName().toString().replace(".seg", ""));
        // A directory in its place: reading it fails as a bad sector or a mode of 000 would (root reads those).
        Files.delete(second);
        Files.createDirectory(second);
        try (Journal j = open()) {
            List<Record> kept = JournalTest.readAll(j);
            assertEquals(400 - held, kept.size(), "every other reading is kept");
            assertEquals(held, recoveryDrops(j), "the readings it held are counted as lost");
            assertTrue(Files.isDirectory(dir.resolve(second.getFileName() + ".unreadable")), "set aside under a new name");
            assertTrue(j.recovery().problems().stream().anyMatch(p -> p.contains(second.getFileName() + ": cannot be read")),
                    j.recovery().problems().toString());
            append(j, "a", 1);
            assertEquals(1, JournalTest.readAll(j).size() - kept.size() + 0 * j.depth(), "it journals again");
        }
        try (Journal j = open()) {
            assertEquals(held, recoveryDrops(j), "counted once, and the count survives the restart");
        }
    }

    @Test
    void anOlderSegmentCutInHalfCountsExactlyTheReadingsItLost() throws Exception {
        fill();
        Path first = segments().get(0);
        byte[] bytes = Files.readAllBytes(first);
        Files.write(first, java.util.Arrays.copyOf(bytes, bytes.length / 2)); // the rest zero-filled
        Files.write(first, new byte[bytes.length - bytes.length / 2], java.nio.file.StandardOpenOption.APPEND);
        try (Journal j = open()) {
            List<Record> kept = JournalTest.readAll(j);
            long lost = 400 - kept.size();
            assertTrue(lost > 10, "about half a segment: " + lost);
            assertEquals(lost, recoveryDrops(j), "every reading lost is counted, exactly");
            assertEquals(lost, j.recovery().lostReadings());
        }
        try (Journal j = open()) {
            assertEquals(400 - recoveryDrops(j), JournalTest.readAll(j).size());
            assertTrue(recoveryDrops(j) > 10, "the same damage is not counted twice: " + recoveryDrops(j));
            assertEquals(j.counters().dropped().get(Journal.UNKNOWN_SENSOR).get("recovery"), recoveryDrops(j));
        }
    }

    @Test
    void everySegmentZeroFilledNoSeqIsHandedOutTwice() throws Exception {
        Set<String> before = fill();
        for (Path s : segments()) Files.write(s, new byte[(int) Files.size(s)]);
        try (Journal j = open()) {
            assertEquals(0, JournalTest.readAll(j).size());
            for (int i = 0; i < 50; i++) {
                for (String sensor : List.of("a", "b")) {
                    long seq = j.nextSeq(sensor);
                    assertTrue(!before.contains(sensor + "#" + seq), sensor + " seq " + seq + " was handed out before the damage");
                }
            }
            assertTrue(recoveryDrops(j) > 0, "the lost readings are counted: " + j.counters().dropped());
        }
    }

    @Test
    void aForgedOrDamagedAckedFileIsIgnoredAndNothingIsTakenForDelivered() throws Exception {
        fill();
        // A watermark far beyond the journal's end, written in the old format (no checksum).
        Files.writeString(dir.resolve("acked"), "999999999\n");
        try (Journal j = open()) {
            assertEquals(400, JournalTest.readAll(j).size(), "nothing is taken for acknowledged");
            assertTrue(j.recovery().problems().stream().anyMatch(p -> p.contains("beyond the journal's end")), j.recovery().problems().toString());
            assertEquals(201, j.nextSeq("a"), "seq goes on where it was (no damage: no gap)");
        }
        // A checksummed file edited by hand.
        String acked = Files.readString(dir.resolve("acked"));
        assertTrue(acked.contains("#crc32c\t"), acked);
        Files.writeString(dir.resolve("acked"), acked.replaceFirst("^\\d+", "5"));
        try (Journal j = open()) {
            assertEquals(400, JournalTest.readAll(j).size());
            assertTrue(j.recovery().problems().stream().anyMatch(p -> p.contains("checksum does not match")), j.recovery().problems().toString());
        }
    }

    @Test
    void dropCountsSurviveRestarts() throws Exception {
        try (Journal j = Journal.open(new Journal.Options(dir, 1L << 20, Duration.ofDays(7), 16 * 1024, Duration.ofMillis(2)), clock)) {
            j.bounds(1L << 20, Duration.ofDays(7), true); // drop-newest: a full journal refuses and counts
            append(j, "a", 12_000); // about 1.7 MB into 1 MiB
            JournalTest.Await.until(() -> j.counters().dropped().containsKey("a"));
        }
        long dropped;
        try (Journal j = open()) {
            dropped = j.counters().dropped().get("a").get("full");
            assertTrue(dropped > 0);
            assertTrue(j.counters().lastDroppedAtMillis() > 0, "when the last was dropped is kept too");
        }
        try (Journal j = open()) {
            assertEquals(dropped, j.counters().dropped().get("a").get("full"), "still there after another restart");
        }
    }

    @Test
    void aFullDiskAtStartLeavesAJournalThatCountsAndRecoversWhenThereIsRoom() throws Exception {
        Path small = dir.resolve("small");
        org.junit.jupiter.api.Assumptions.assumeTrue(JournalTest.mountSmallDisk(small), "needs root to mount a small tmpfs (CI runs as root)");
        try {
            Path journal = small.resolve("journal");
            Path filler = small.resolve("filler");
            try (Journal j = Journal.open(new Journal.Options(journal, 64L << 20, Duration.ofDays(7), 16 * 1024, Duration.ofMillis(2)), clock)) {
                append(j, "a", 10);
                JournalTest.readAll(j);
            }
            // Fill the disk to the last byte.
            try (var out = Files.newOutputStream(filler)) {
                byte[] block = new byte[4096];
                while (true) out.write(block);
            } catch (java.io.IOException full) {
                // no space left
            }
            try (Journal j = Journal.open(new Journal.Options(journal, 64L << 20, Duration.ofDays(7), 16 * 1024, Duration.ofMillis(2)), clock)) {
                assertEquals(10, JournalTest.readAll(j).size(), "what was there is still sent");
                append(j, "a", 20);
                JournalTest.Await.until(() -> j.counters().dropped().containsKey("a"));
                assertTrue(j.counters().dropped().get("a").get("diskFull") > 0, j.counters().dropped().toString());
                assertTrue(j.counters().lastError().contains("No space left"), j.counters().lastError());
                // Room again: it journals by itself.
                Files.delete(filler);
                long before = j.lastId();
                append(j, "a", 5);
                JournalTest.Await.until(() -> j.counters().lastError() == null);
                assertTrue(j.lastId() > before);
                assertNull(j.counters().lastError());
            }
        } finally {
            new ProcessBuilder("umount", small.toString()).start().waitFor();
        }
    }
}
