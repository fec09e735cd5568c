package dev.meerkat.coordination.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.coordination.testing.LocalEnsemble;
import dev.meerkat.coordination.testing.ZooKeeperEnsemble;
import dev.meerkat.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link HardwareLocks} (SPEC §6) on a real 3-server ensemble in this JVM: fencing tokens that only
 * grow, bounded waits, a hold that runs out with its lease, a given-up wait that leaves nothing
 * behind. Gateways as processes stopped and killed while they hold: {@code HardwareLockTest} in
 * test/; network faults and leader kills: {@code HardwareLockFaultsTest}.
 */
class HardwareLocksTest {
    static final Duration SESSION = Duration.ofSeconds(2);
    static final String ROOT = "/meerkat";
    static ZooKeeperEnsemble zk;

    @BeforeAll
    static void ensemble() throws Exception {
        zk = new LocalEnsemble(3, Files.createTempDirectory(Files.createDirectories(Path.of("target", "work")), "locks-").resolve("zk"));
    }

    @AfterAll
    static void stop() {
        if (zk != null) zk.close();
    }

    static CuratorFramework client() throws Exception {
        CuratorFramework c = ZooKeeperClients.create(new BootstrapConfig.ZooKeeper(zk.connectString(), ROOT, SESSION,
                Optional.empty(), Optional.empty()));
        c.start();
        assertTrue(c.blockUntilConnected(20, java.util.concurrent.TimeUnit.SECONDS));
        return c;
    }

    /** The ephemeral znodes under {@code path}, at any depth (the lock znodes of the locks under it). */
    static int ephemerals(CuratorFramework c, String path) {
        try {
            int n = 0;
            for (String child : c.getChildren().forPath(path)) {
                org.apache.zookeeper.data.Stat st = c.checkExists().forPath(path + "/" + child);
                if (st != null) n += (st.getEphemeralOwner() != 0 ? 1 : 0) + ephemerals(c, path + "/" + child);
            }
            return n;
        } catch (org.apache.zookeeper.KeeperException.NoNodeException gone) {
            return 0;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void tokensGrowAndWaitingIsBounded() throws Exception {
        try (CuratorFramework a = client(); CuratorFramework b = client();
             Session sa = new Session(a, SESSION); Session sb = new Session(b, SESSION);
             HardwareLocks la = new HardwareLocks(a, sa, ROOT); HardwareLocks lb = new HardwareLocks(b, sb, ROOT)) {
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
            Await.until(Duration.ofSeconds(5), "its znode deleted", () -> ephemerals(a, ROOT + "/locks/site-1") == 0);
            a.delete().deletingChildrenIfNeeded().forPath(ROOT + "/locks/site-1");
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

    /**
     * The lease on a ticker the test moves: valid until half the negotiated session timeout has
     * passed since the acquisition (the servers cannot expire the session before a whole one), not
     * a nanosecond after, whatever the client has noticed.
     */
    @Test
    void aHoldRunsOutWithItsLease() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        try (CuratorFramework a = client(); Session sa = new Session(a, SESSION);
             HardwareLocks la = new HardwareLocks(a, sa, ROOT, now::get)) {
            long lease = Duration.ofMillis(sa.negotiatedTimeoutMs() / 2).toNanos();
            try (Hold h = la.acquire("lease", Duration.ofSeconds(5)).orElseThrow()) {
                h.check();
                now.addAndGet(lease - 1);
                h.check();
                assertTrue(h.valid());
                now.addAndGet(1); // a pause as long as the lease
                assertFalse(h.valid());
                LockException e = assertThrows(LockException.class, h::check);
                assertTrue(e.getMessage().contains("lease"), e.getMessage());
                assertTrue(a.getZookeeperClient().isConnected(), "the client has noticed nothing");
            }
        }
    }

    @Test
    void aWaiterThatGivesUpLeavesNoHoldBehind() throws Exception {
        try (CuratorFramework a = client(); CuratorFramework b = client();
             Session sa = new Session(a, SESSION); Session sb = new Session(b, SESSION);
             HardwareLocks la = new HardwareLocks(a, sa, ROOT); HardwareLocks lb = new HardwareLocks(b, sb, ROOT)) {
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
            Await.until(Duration.ofSeconds(5), "the other waiting", () -> waiter.getState() == Thread.State.TIMED_WAITING);
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
