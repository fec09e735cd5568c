package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.test.fixtures.AccessLog;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.LockContender;
import dev.meerkat.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Locks on shared hardware (SPEC §6) on a real 3-server ensemble, across processes. Several
 * gateways use one fake device that writes down every access with the hold's token
 * ({@link AccessLog}); whatever the faults, the access windows never overlap and the tokens only
 * grow. The lock recipe in one JVM: {@code HardwareLocksTest} in coordination/; network faults and
 * leader kills: {@link HardwareLockFaultsTest}.
 */
class HardwareLockTest extends HardwareLockFixture {
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

}
