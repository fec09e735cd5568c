package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.coordination.locks.HardwareLocks;
import dev.meerkat.coordination.locks.Hold;
import dev.meerkat.coordination.locks.LockException;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.test.fixtures.AccessLog;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Await;
import dev.meerkat.test.fixtures.LockContender;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;

/**
 * Locks on shared hardware (SPEC §6) on a real 3-server ensemble. Several gateways use one fake
 * device that writes down every access with the hold's token ({@link AccessLog}); whatever the
 * faults, the access windows never overlap and the tokens only grow. Network faults and leader
 * kills: {@link HardwareLockFaultsTest}.
 */
class HardwareLockTest extends HardwareLockFixture {
    @Test
    void tokensGrowAndWaitingIsBounded() throws Exception {
        try (CuratorFramework a = client(); CuratorFramework b = client();
             Session sa = new Session(a, SESSION); Session sb = new Session(b, SESSION);
             HardwareLocks la = new HardwareLocks(a, sa, LockContender.ROOT); HardwareLocks lb = new HardwareLocks(b, sb, LockContender.ROOT)) {
            long last = 0;
            for (int i = 0; i < 5; i++) {
                HardwareLocks l = i % 2 == 0 ? la : lb;
                try (Hold h = l.acquire("site-1/i2c-1/0x76", Duration.ofSeconds(5)).orElseThrow()) {
                    assertTrue(h.valid());
                    assertTrue(h.token() > last, "token " + h.token() + " after " + last);
                    last = h.token();
                    assertEquals(java.util.Map.of("site-1/i2c-1/0x76", h.token()), l.held());
                }
            }
            // Removing the lock's parent restarts the znodes' sequence numbers, not the tokens.
            Await.until(Duration.ofSeconds(5), "lock released", () -> la.held().isEmpty() && lb.held().isEmpty());
            Thread.sleep(200);
            a.delete().deletingChildrenIfNeeded().forPath(LockContender.ROOT + "/locks/site-1");
            try (Hold h = la.acquire("site-1/i2c-1/0x76", Duration.ofSeconds(5)).orElseThrow()) {
                assertTrue(h.token() > last);
            }

            try (Hold h = la.acquire("bus-2", Duration.ofSeconds(5)).orElseThrow()) {
                long t0 = System.nanoTime();
                assertTrue(lb.acquire("bus-2", Duration.ofMillis(300)).isEmpty(), "taken while held");
                long waited = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(waited >= 250 && waited < 3000, "waited " + waited + "ms for a 300ms bound");
                assertEquals(1, lb.counters().timedOut());
                assertTrue(h.valid());
            }
            Hold after = lb.acquire("bus-2", Duration.ofSeconds(5)).orElseThrow();
            after.close();
            assertThrows(LockException.class, after::check, "a released hold is not valid");
        }
    }

    @Test
    void aHoldRunsOutWithItsLease() throws Exception {
        try (CuratorFramework a = client(); Session sa = new Session(a, SESSION);
             HardwareLocks la = new HardwareLocks(a, sa, LockContender.ROOT)) {
            try (Hold h = la.acquire("lease", Duration.ofSeconds(5)).orElseThrow()) {
                h.check();
                Thread.sleep(sa.negotiatedTimeoutMs() / 2 + 100); // a pause longer than the lease
                LockException e = assertThrows(LockException.class, h::check);
                assertTrue(e.getMessage().contains("lease"), e.getMessage());
            }
        }
    }

    /**
     * Gateways as processes of their own, stopped with SIGSTOP past the session timeout in the middle
     * of their work and continued, and killed with SIGKILL and started again.
     */
    @Test
    void neverTwoHoldersWhenProcessesStopAndDie() throws Exception {
        Path log = work.resolve("process-accesses.log");
        Random random = new Random(7);
        int stops = 0, kills = 0, inTransaction = 0;
        List<AgentProcess> procs = new ArrayList<>();
        try (LockContender local = new LockContender(zk.connectString(), SESSION, "shared/process", log, "local")) {
            for (int i = 0; i < 2; i++) procs.add(contender(log, "p" + i, 0));
            Await.until(Duration.ofSeconds(30), "the processes hold", () -> lines(log, " p0 ") > 0 && lines(log, " p1 ") > 0);
            for (int i = 0; i < 24; i++) {
                int k = random.nextInt(2);
                AgentProcess p = procs.get(k);
                if (i % 8 == 7) {
                    p.signal("KILL");
                    p.waitFor(Duration.ofSeconds(10));
                    procs.set(k, contender(log, "p" + k, i));
                    kills++;
                    continue;
                }
                // Long stops outlive the session; short ones stay within it (the hold's lease decides then).
                // Each stop lands in the middle of one of the victim's transactions.
                long pause = i % 2 == 0 ? SESSION.toMillis() + 500 + random.nextInt(1000) : 200 + random.nextInt(600);
                if (waitAccessBy(log, "p" + k, Duration.ofSeconds(5))) inTransaction++;
                p.signal("STOP");
                stops++;
                Thread.sleep(pause);
                p.signal("CONT");
                Thread.sleep(500 + random.nextInt(500));
            }
            long localBefore = local.holds.get();
            Await.until(Duration.ofSeconds(30), "everyone holds again", () -> local.holds.get() > localBefore);
        } finally {
            for (AgentProcess p : procs) p.close();
        }
        List<AccessLog.Window> windows = AccessLog.windows(log);
        List<String> bad = AccessLog.violations(windows);
        long fencedTx = 0;
        for (int k = 0; k < 2; k++) {
            for (java.nio.file.Path out : java.nio.file.Files.newDirectoryStream(work, "p" + k + "-*.out")) fencedTx += lastCount(out, "fenced");
        }
        System.out.printf("locks across processes: %d holds, %d SIGSTOPs (%d in a transaction), %d SIGKILLs, %d transactions fenced, %d violations%n",
                windows.size(), stops, inTransaction, kills, fencedTx, bad.size());
        assertEquals(List.of(), bad.stream().limit(10).toList());
        assertTrue(windows.size() > 200, "too few holds to mean anything: " + windows.size());
        assertNotEquals(0, windows.stream().filter(w -> w.holder().startsWith("p")).count());
        assertTrue(inTransaction >= stops / 2, "too few stops landed in a transaction: " + inTransaction);
        assertTrue(fencedTx > 0, "no stopped holder found its hold void when it resumed: the stops did not test the fence");
    }

    static AgentProcess contender(Path log, String name, int n) throws Exception {
        return AgentProcess.java(work.resolve(name + "-" + n + ".out"), LockContender.class.getName(),
                zk.connectString(), Long.toString(SESSION.toMillis()), "shared/process", log.toString(), name, "8", "5");
    }

    /** Waits until {@code holder} has just made an access (the log's last line is its, within 2 ms). */
    static boolean waitAccessBy(Path log, String holder, Duration max) throws Exception {
        long end = System.nanoTime() + max.toNanos();
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(log.toFile(), "r")) {
            byte[] tail = new byte[128];
            while (System.nanoTime() < end) {
                long len = f.length();
                int n = (int) Math.min(tail.length, len);
                f.seek(len - n);
                f.readFully(tail, 0, n);
                String[] lines = new String(tail, 0, n, java.nio.charset.StandardCharsets.US_ASCII).split("\n");
                String[] last = lines[lines.length - 1].split(" ");
                if (last.length == 3 && last[1].equals(holder) && System.nanoTime() - Long.parseLong(last[0]) < 2_000_000) return true;
                Thread.onSpinWait();
            }
        }
        return false;
    }

    /** The last {@code name=N} a contender process printed. */
    static long lastCount(Path out, String name) throws java.io.IOException {
        long v = 0;
        for (String line : java.nio.file.Files.readAllLines(out)) {
            for (String f : line.split(" ")) if (f.startsWith(name + "=")) v = Long.parseLong(f.substring(name.length() + 1));
        }
        return v;
    }

    static long lines(Path log, String holder) {
        try {
            return java.nio.file.Files.readAllLines(log).stream().filter(l -> l.contains(holder)).count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    @Test
    void aWaiterThatGivesUpLeavesNoHoldBehind() throws Exception {
        try (CuratorFramework a = client(); CuratorFramework b = client();
             Session sa = new Session(a, SESSION); Session sb = new Session(b, SESSION);
             HardwareLocks la = new HardwareLocks(a, sa, LockContender.ROOT); HardwareLocks lb = new HardwareLocks(b, sb, LockContender.ROOT)) {
            Hold held = la.acquire("site-1/i2c-1/0x40", Duration.ofSeconds(5)).orElseThrow();
            // A sensor's watchdog interrupts a wait (as when the ensemble went during it).
            var outcome = new java.util.concurrent.CompletableFuture<Throwable>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    outcome.complete(new AssertionError("got " + lb.acquire("site-1/i2c-1/0x40", Duration.ofSeconds(20))));
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            Thread.sleep(500);
            waiter.interrupt();
            assertTrue(outcome.get(5, java.util.concurrent.TimeUnit.SECONDS) instanceof InterruptedException, "the wait did not end with the interrupt");
            held.close();
            // Nobody holds it now: the given-up wait did not take it once the holder let go.
            try (Hold again = la.acquire("site-1/i2c-1/0x40", Duration.ofSeconds(3)).orElseThrow(() -> new AssertionError("a given-up wait kept the lock"))) {
                assertTrue(again.valid());
                assertEquals(java.util.Map.of(), lb.held());
            }
            // And the one that gave up can take it again: its lock thread is not stuck in the old wait.
            try (Hold later = lb.acquire("site-1/i2c-1/0x40", Duration.ofSeconds(3)).orElseThrow()) {
                assertTrue(later.valid());
            }
        }
    }
}
