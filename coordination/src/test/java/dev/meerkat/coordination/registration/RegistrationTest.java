package dev.meerkat.coordination.registration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.config.Json;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.coordination.testing.LocalEnsemble;
import dev.meerkat.coordination.testing.SessionExpiry;
import dev.meerkat.coordination.testing.ZooKeeperEnsemble;
import dev.meerkat.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Registration} on a real 3-server ensemble, in this JVM: the member znode is owned by the
 * current session, comes back after an expiry, is taken over from this gateway's own earlier
 * session at once, and is never taken from a session that is not the gateway's.
 */
class RegistrationTest {
    static Path work;
    static ZooKeeperEnsemble zk;
    static final MemberInfo INFO = new MemberInfo("gw-x", "f", "0", "0", "h", List.of(), "t", List.of());

    @BeforeAll
    static void ensemble() throws Exception {
        work = Files.createTempDirectory(Files.createDirectories(Path.of("target", "work")), "registration-");
        zk = new LocalEnsemble(3, work.resolve("zk"));
        try (CuratorFramework c = zk.client("registration", Duration.ofSeconds(10))) {
            c.create().creatingParentsIfNeeded().forPath("/fleets/f/members");
        }
    }

    @AfterAll
    static void stop() {
        if (zk != null) zk.close();
    }

    static long sessionId(CuratorFramework c) {
        try {
            return c.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            return 0;
        }
    }

    static Stat stat(CuratorFramework c, String path) throws Exception {
        return c.checkExists().forPath(path);
    }

    /** A raw ZooKeeper session, the way another process would hold one. */
    static ZooKeeper rawSession(int timeoutMs) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper raw = new ZooKeeper(zk.connectString() + "/registration", timeoutMs, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        assertTrue(connected.await(20, TimeUnit.SECONDS));
        return raw;
    }

    @Test
    void anExpiredSessionLosesItsEphemeralAndRegistrationComesBackUnderTheNewSession() throws Exception {
        String path = "/fleets/f/members/expiry";
        try (CuratorFramework c = zk.client("registration", Duration.ofSeconds(10));
             Session session = new Session(c, Duration.ofSeconds(10))) {
            try (Registration r = new Registration(c, path, INFO, Optional.empty())) {
                r.start(session);
                assertTrue(r.awaitRegistered(Duration.ofSeconds(10)));
                assertTrue(r.isRegistered());
                long before = sessionId(c);
                assertEquals(before, r.ownedBy());
                SessionExpiry.expire(c, zk.connectString());
                Await.until(Duration.ofSeconds(30), "a new session", () -> sessionId(c) != before && sessionId(c) != 0);
                Await.until(Duration.ofSeconds(30), "registered again under the new session", r::isRegistered);
                Stat stat = stat(c, path);
                assertEquals(sessionId(c), stat.getEphemeralOwner());
                assertNotEquals(before, stat.getEphemeralOwner());
                assertEquals("gw-x", Json.mapper().readTree(c.getData().forPath(path)).path("device").asText());
            }
            assertNull(stat(c, path), "close() deletes the member znode");
        }
    }

    @Test
    void theZnodeOfThisGatewaysEarlierSessionIsTakenOverAtOnceNotAfterItsTimeout() throws Exception {
        String path = "/fleets/f/members/restart";
        Path sessionFile = work.resolve("restart.session");
        // The process before a crash: its session (60 s) still holds the member znode.
        ZooKeeper crashed = rawSession(60_000);
        crashed.create(path, "{}".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        Files.writeString(sessionFile, "0x" + Long.toHexString(crashed.getSessionId()) + "\n");
        try (CuratorFramework c = zk.client("registration", Duration.ofSeconds(10));
             Session session = new Session(c, Duration.ofSeconds(10));
             Registration r = new Registration(c, path, INFO, Optional.of(sessionFile))) {
            r.start(session);
            Duration took = Await.time(Duration.ofSeconds(10), "taken over", r::isRegistered);
            assertTrue(took.toMillis() < 5_000, "took " + took);
            assertEquals(sessionId(c), stat(c, path).getEphemeralOwner());
            assertEquals("0x" + Long.toHexString(sessionId(c)), Files.readString(sessionFile).strip(),
                    "the new session is recorded for the next start");
            // The old session ending later must not take the new registration with it. close() returns
            // once the servers have ended the session (and deleted its ephemerals): what it would
            // have taken is gone by then, and the registration would have seen its znode deleted.
            crashed.close();
            crashed = null;
            java.util.concurrent.CountDownLatch synced = new java.util.concurrent.CountDownLatch(1);
            c.getZookeeperClient().getZooKeeper().sync(path, (rc, p, ctx) -> synced.countDown(), null); // this server caught up
            assertTrue(synced.await(10, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(sessionId(c), stat(c, path).getEphemeralOwner(), "the old session's end took the new registration");
            assertTrue(r.isRegistered());
        } finally {
            if (crashed != null) crashed.close();
        }
    }

    @Test
    void aZnodeOfASessionThatIsNotThisGatewaysIsLeftAloneUntilItGoes() throws Exception {
        String path = "/fleets/f/members/twin";
        ZooKeeper other = rawSession(60_000);
        other.create(path, "{\"device\":\"twin\"}".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        try (CuratorFramework c = zk.client("registration", Duration.ofSeconds(10));
             Session session = new Session(c, Duration.ofSeconds(10));
             Registration r = new Registration(c, path, INFO, Optional.of(work.resolve("twin.session")))) {
            r.start(session);
            Await.until(Duration.ofSeconds(10), "the conflict seen", () -> r.conflictWith() == other.getSessionId());
            Thread.sleep(1000);
            assertFalse(r.isRegistered(), "another agent's znode must not be taken");
            assertEquals(other.getSessionId(), stat(c, path).getEphemeralOwner());
            other.close();
            Duration took = Await.time(Duration.ofSeconds(10), "registered once the other session ended", r::isRegistered);
            assertTrue(took.toMillis() < 5_000, "took " + took);
            assertEquals(0, r.conflictWith());
        }
    }

    @Test
    void aDeletedOrChangedMemberZnodeIsPutBack() throws Exception {
        String path = "/fleets/f/members/deleted";
        try (CuratorFramework c = zk.client("registration", Duration.ofSeconds(10));
             CuratorFramework operator = zk.client("registration", Duration.ofSeconds(10));
             Session session = new Session(c, Duration.ofSeconds(10));
             Registration r = new Registration(c, path, INFO, Optional.empty())) {
            r.start(session);
            assertTrue(r.awaitRegistered(Duration.ofSeconds(10)));
            long first = stat(operator, path).getCzxid();
            operator.delete().forPath(path);
            // Seen by the operator's session, which saw its own delete: a new znode, the agent's.
            // (The agent's own server may not have applied the delete yet, so its reads prove nothing.)
            Await.until(Duration.ofSeconds(10), "created again", () -> {
                try {
                    Stat now = stat(operator, path);
                    return now != null && now.getCzxid() != first && now.getEphemeralOwner() == sessionId(c);
                } catch (Exception e) {
                    return false;
                }
            });
            operator.setData().forPath(path, "{}".getBytes());
            Await.until(Duration.ofSeconds(10), "its content put back",
                    () -> {
                        try {
                            return Json.mapper().readTree(operator.getData().forPath(path)).path("device").asText().equals("gw-x");
                        } catch (Exception e) {
                            return false;
                        }
                    });
        }
    }

    @Test
    void theSessionReportsTheTimeoutTheServersGranted() throws Exception {
        // The servers allow 1 s to 60 s (LocalEnsemble) or 1 s to 10 s (ProcessEnsemble): 200 ms is clamped.
        try (CuratorFramework c = zk.client("registration", Duration.ofMillis(200));
             Session session = new Session(c, Duration.ofMillis(200))) {
            assertEquals(1000, session.negotiatedTimeoutMs());
            assertEquals(sessionId(c), session.id());
            assertTrue(session.connected());
        }
    }
}
