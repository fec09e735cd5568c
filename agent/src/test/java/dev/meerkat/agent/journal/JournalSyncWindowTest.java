package dev.meerkat.agent.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.time.ManualScheduler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sync window ({@code buffer.syncInterval}): records are handed out once written, forced to
 * the card only when the broker has not acknowledged them within the window; and what a power cut
 * under a window leaves is recovered with no seq handed out twice, the gap explained. A power cut
 * is the files as a crash of the machine leaves them: copied while the journal runs (what the page
 * cache had written), with a torn or zero-filled tail, opened in another boot.
 *
 * <p>The window's time is a {@link ManualScheduler} the tests move ({@link #pastWindow}); the
 * journal's thread keeps the real clock for its commit delay and maintenance only.
 */
class JournalSyncWindowTest {
    @TempDir
    Path dir;

    @TempDir
    Path afterCut;

    /** Its readings and the journal share one clock, so that none is older than {@code maxAge}. */
    final JournalTest t = new JournalTest();

    /** The sync window's time. */
    final ManualScheduler time = new ManualScheduler();

    Journal open(Path in, String boot) {
        Journal j = Journal.open(Journal.Options.of(in, 64L << 20, Duration.ofDays(7)), t.clock, boot);
        j.writer.windowClock = time;
        return j;
    }

    /**
     * Moves the window's time on by {@code d}, then wakes the journal's thread until it has decided
     * whether to force at that time or later (a thread with nothing written waits out its
     * maintenance second first).
     */
    void pastWindow(Journal j, Duration d) throws InterruptedException {
        time.advance(d);
        long now = time.nanos(), end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (j.writer.decidedAt - now < 0) {
            if (System.nanoTime() > end) throw new AssertionError("the journal's thread did not look at the window in 10 s");
            synchronized (j.lock) {
                j.lock.notifyAll();
            }
            Thread.sleep(1);
        }
    }

    void append(Journal j, String sensor, int n) {
        t.append(j, sensor, n);
    }

    /** The {@code n} readings after the watermark, read as the sender does: at once, without waiting for more. */
    static List<Record> readNow(Journal j, int n) throws InterruptedException {
        // The n appended may be committed in more than one batch (the 2 ms gather can end between appends).
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<Record> r = j.read(j.ackedId(), n, JournalTest.WAIT).records();
        while (r.size() < n && System.nanoTime() < end) {
            Thread.sleep(1);
            r = j.read(j.ackedId(), n, JournalTest.WAIT).records();
        }
        assertEquals(n, r.size());
        return r;
    }

    static void awaitTrue(String what, java.util.function.BooleanSupplier c) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("not in 10 s: " + what);
            Thread.sleep(5);
        }
    }

    @Test
    void withNoWindowEachCommitIsForcedBeforeItIsHandedOut() throws Exception {
        try (Journal j = open(dir, "boot-1")) {
            j.syncInterval(Duration.ZERO);
            long before = j.counters().fsyncs();
            append(j, "a", 10);
            assertEquals(10, JournalTest.readAll(j).size());
            assertTrue(j.counters().fsyncs() > before, "forced before it was read");
        }
    }

    @Test
    void underAWindowReadingsAcknowledgedInTimeAreNeverForced() throws Exception {
        try (Journal j = open(dir, "boot-1")) {
            j.syncInterval(Duration.ofMillis(500));
            long before = j.counters().fsyncs();
            for (int round = 0; round < 3; round++) {
                append(j, "a", 10);
                List<Record> read = readNow(j, 10); // handed out once written, not forced
                j.acknowledged("a", read.get(read.size() - 1).id());
                pastWindow(j, Duration.ofMillis(700)); // past the window: nothing to force, since the broker has them
            }
            assertEquals(before, j.counters().fsyncs(), "no fsync for readings the broker acknowledged within the window");
        }
    }

    @Test
    void eachWriteHasItsOwnWindowSoTheNextTickIsNotForcedAtTheDeadlineOfTheLast() throws Exception {
        // At 1 Hz the next tick's readings are written about when the last tick's window ends: they
        // must not be forced then, only if still not acknowledged at the end of their own window.
        try (Journal j = open(dir, "boot-1")) {
            j.syncInterval(Duration.ofSeconds(2));
            long before = j.counters().fsyncs();
            append(j, "a", 10);
            j.acknowledged("a", readNow(j, 10).get(9).id());
            pastWindow(j, Duration.ofMillis(1_400));
            append(j, "a", 10);
            List<Record> second = readNow(j, 10);
            pastWindow(j, Duration.ofMillis(1_000)); // the first write's window has ended, the second's readings wait for their broker
            j.acknowledged("a", second.get(9).id());
            pastWindow(j, Duration.ofMillis(1_500)); // past the second write's window
            assertEquals(before, j.counters().fsyncs());
        }
    }

    @Test
    void underAWindowAReadingNotAcknowledgedIsForcedOnceTheWindowHasPassed() throws Exception {
        try (Journal j = open(dir, "boot-1")) {
            j.syncInterval(Duration.ofMillis(100));
            long before = j.counters().fsyncs();
            append(j, "a", 10);
            assertEquals(10, JournalTest.readAll(j).size());
            pastWindow(j, Duration.ofMillis(99));
            assertEquals(before, j.counters().fsyncs(), "not before the window");
            pastWindow(j, Duration.ofMillis(1));
            assertTrue(j.counters().fsyncs() > before, "the unacknowledged readings forced once the window has passed");
        }
    }

    @Test
    void aCrashOfTheAgentUnderAWindowLosesNothingAndSkipsNoSeq() throws Exception {
        Map<String, Long> last;
        try (Journal j = open(dir, "boot-1")) {
            j.syncInterval(Duration.ofSeconds(5));
            append(j, "a", 30);
            append(j, "b", 20);
            assertEquals(50, JournalTest.readAll(j).size());
            powerCut(dir, afterCut, 0); // a kill -9: the page cache keeps every written byte
        }
        try (Journal j = open(afterCut, "boot-1")) { // the same boot: the agent crashed, the machine did not
            assertEquals(50, JournalTest.readAll(j).size());
            assertEquals(31, j.nextSeq("a"));
            assertEquals(21, j.nextSeq("b"));
            assertEquals(Map.of(), j.recovery().seqGaps());
        }
    }

    @Test
    void aPowerCutUnderAWindowNeverReusesASeqAndTheGapIsExplained() throws Exception {
        for (int torn : new int[] {0, 100, -100}) { // as written; a torn tail; a zero-filled one
            Path from = Files.createTempDirectory(dir, "run"), to = Files.createTempDirectory(dir, "cut");
            try (Journal j = open(from, "boot-1")) {
                j.syncInterval(Duration.ofSeconds(5));
                append(j, "a", 30);
                append(j, "b", 20);
                assertEquals(50, JournalTest.readAll(j).size()); // all of them may have been sent
                powerCut(from, to, torn);
            }
            try (Journal j = open(to, "boot-2")) {
                assertTrue(j.nextSeq("a") > 1000 && j.nextSeq("b") > 1000, "past the reservations: no seq handed out twice");
                assertEquals(List.of("a", "b"), List.copyOf(new java.util.TreeSet<>(j.recovery().seqGaps().keySet())));
                String why = j.recovery().seqGaps().get("a");
                assertTrue(why.startsWith("seq ") && why.contains("-1000 not used") && why.contains("restarted without the agent stopping"), why);
                assertTrue(j.recovery().problems().stream().anyMatch(p -> p.contains("buffer.syncInterval 5000ms")), j.recovery().problems().toString());
            }
        }
    }

    @Test
    void aPowerCutWithNoWindowSkipsNoSeq() throws Exception {
        try (Journal j = open(dir, "boot-1")) {
            j.syncInterval(Duration.ZERO);
            append(j, "a", 30);
            assertEquals(30, JournalTest.readAll(j).size());
            powerCut(dir, afterCut, 0);
        }
        try (Journal j = open(afterCut, "boot-2")) {
            assertEquals(31, j.nextSeq("a"), "every reading handed out was on the card: its seq is known");
            assertEquals(Map.of(), j.recovery().seqGaps());
        }
    }

    @Test
    void aCleanStopUnderAWindowThenARestartOfTheMachineSkipsNoSeq() throws Exception {
        try (Journal j = open(dir, "boot-1")) {
            j.syncInterval(Duration.ofSeconds(5));
            append(j, "a", 30);
            assertEquals(30, JournalTest.readAll(j).size());
        }
        try (Journal j = open(dir, "boot-2")) {
            assertEquals(30, JournalTest.readAll(j).size());
            assertEquals(31, j.nextSeq("a"));
            assertEquals(Map.of(), j.recovery().seqGaps());
        }
    }

    /**
     * What a crash leaves of {@code from}, in {@code to}: every file as written so far, the newest
     * segment's last {@code torn} bytes cut (or, negative, zero-filled).
     */
    static void powerCut(Path from, Path to, int torn) throws IOException {
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        if (torn == 0) return;
        Path seg = JournalTest.newestSegment(to);
        long size = Files.size(seg);
        try (var ch = java.nio.channels.FileChannel.open(seg, StandardOpenOption.WRITE)) {
            if (torn > 0) {
                ch.truncate(size - torn);
            } else {
                ch.write(java.nio.ByteBuffer.allocate(-torn), size + torn);
            }
        }
    }
}
