package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.test.fixtures.AccessLog;
import dev.meerkat.test.fixtures.LockContender;
import dev.meerkat.test.fixtures.NetworkFaults;
import dev.meerkat.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Locks on shared hardware under network faults and ZooKeeper leader kills, on a real 3-server
 * ensemble: whatever the faults, the access windows of the fake device never overlap
 * ({@link HardwareLockTest} has the rest).
 */
class HardwareLockFaultsTest extends HardwareLockFixture {
    /**
     * Three gateways in this JVM; two behind network faults. Hundreds of connection resets in the
     * middle of transactions, partitions past the session timeout (the session expires the way it
     * does in the field: the servers stop hearing from it), and killed ZooKeeper leaders.
     */
    @Test
    void neverTwoHoldersUnderNetworkFaultsAndLeaderKills() throws Exception {
        Path log = work.resolve("jvm-accesses.log");
        Random random = new Random(6);
        int resets = 0, partitions = 0, expired = 0, leaderKills = 0, fenced = 0;
        try (NetworkFaults na = new NetworkFaults(zk.connectString()); NetworkFaults nb = new NetworkFaults(zk.connectString());
             LockContender a = new LockContender(na.connectString(), SESSION, "shared/sensor", log, "a");
             LockContender b = new LockContender(nb.connectString(), SESSION, "shared/sensor", log, "b");
             LockContender c = new LockContender(zk.connectString(), SESSION, "shared/sensor", log, "c")) {
            List<LockContender> faulty = List.of(a, b);
            List<NetworkFaults> nets = List.of(na, nb);
            Await.until(Duration.ofSeconds(20), "every contender holds once", () -> a.holds.get() > 0 && b.holds.get() > 0 && c.holds.get() > 0);
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 70; i++) {
                    int k = random.nextInt(2);
                    if (waitHolding(faulty.get(k), Duration.ofSeconds(3))) {
                        Thread.sleep(random.nextInt(2));
                        nets.get(k).reset();
                        resets++;
                    }
                    Thread.sleep(20 + random.nextInt(40));
                }
                for (int i = 0; i < 2; i++) {
                    // A holder stalls in the middle of its transaction (a slow bus, a GC pause) while its
                    // network is cut; its session expires and another gateway takes the lock. When it
                    // wakes it must not touch the device again.
                    int k = random.nextInt(2);
                    LockContender f = faulty.get(k);
                    long before = sessionId(f.client());
                    long fencedBefore = f.fenced.get();
                    f.stallNext(SESSION.plusMillis(2000));
                    Await.until(Duration.ofSeconds(10), "the victim in its stalled transaction", f::stalling);
                    nets.get(k).partition();
                    partitions++;
                    Thread.sleep(SESSION.toMillis() + 1500);
                    nets.get(k).heal();
                    Await.until(Duration.ofSeconds(20), "reconnected after a partition", () -> f.client().getZookeeperClient().isConnected());
                    if (sessionId(f.client()) != before) expired++;
                    Await.until(Duration.ofSeconds(10), "the stalled transaction ended", () -> !f.holding());
                    if (f.fenced.get() > fencedBefore) fenced++;
                }
                int leader = zk.leader();
                if (leader >= 0) {
                    zk.kill(leader);
                    leaderKills++;
                    Thread.sleep(1500);
                    zk.restart(leader);
                    Await.until(Duration.ofSeconds(30), "a leader again", () -> leaderOrMinus());
                }
            }
            long[] before = {a.holds.get(), b.holds.get(), c.holds.get()};
            Await.until(Duration.ofSeconds(30), "every contender holds again after the faults",
                    () -> a.holds.get() > before[0] && b.holds.get() > before[1] && c.holds.get() > before[2]);
        }
        List<AccessLog.Window> windows = AccessLog.windows(log);
        List<String> bad = AccessLog.violations(windows);
        System.out.printf("locks in one JVM: %d holds, %d resets, %d partitions (%d sessions expired, %d stalled transactions fenced), %d leader kills, %d violations%n",
                windows.size(), resets, partitions, expired, fenced, leaderKills, bad.size());
        assertEquals(List.of(), bad.stream().limit(10).toList());
        assertTrue(resets >= 200, "resets injected: " + resets);
        assertTrue(expired >= 1, "no partition expired a session: the partitions did not test expiry");
        assertEquals(partitions, fenced, "a stalled holder whose session expired went on with its transaction");
        assertTrue(leaderKills >= 2, "leader kills: " + leaderKills);
        assertTrue(windows.size() > 500, "too few holds to mean anything: " + windows.size());
    }
}
