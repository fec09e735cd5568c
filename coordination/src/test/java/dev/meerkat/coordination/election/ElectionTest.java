package dev.meerkat.coordination.election;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.coordination.testing.LocalEnsemble;
import dev.meerkat.coordination.testing.SessionExpiry;
import dev.meerkat.coordination.testing.ZooKeeperEnsemble;
import dev.meerkat.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fleet's election (SPEC §7) on a real 3-server ensemble: one leader at a time, an immediate
 * handover after a clean stop, and a deposed leader's late write refused by ZooKeeper itself.
 */
class ElectionTest {
    static ZooKeeperEnsemble zk;
    static Path work;

    @BeforeAll
    static void ensemble() throws Exception {
        work = Files.createTempDirectory(Files.createDirectories(Path.of("target", "work")), "election-");
        zk = new LocalEnsemble(3, work.resolve("zk"));
    }

    @AfterAll
    static void stop() {
        if (zk != null) zk.close();
    }

    /** An agent's part in the election: its client, its election, what it was told. */
    record Member(String id, CuratorFramework client, Election election, List<String> events) implements AutoCloseable {
        static Member join(String fleet, String id) throws Exception {
            CuratorFramework c = zk.client("meerkat", Duration.ofSeconds(6));
            List<String> events = new CopyOnWriteArrayList<>();
            Election e = new Election(c, "/fleets/" + fleet + "/election", id, new Election.Listener() {
                @Override
                public void elected(Leadership l) {
                    events.add("elected " + l.epoch());
                }

                @Override
                public void deposed() {
                    events.add("deposed");
                }
            });
            e.start();
            return new Member(id, c, e, events);
        }

        @Override
        public void close() throws Exception {
            election.close();
            client.close();
        }
    }

    static List<Member> leaders(List<Member> members) {
        return members.stream().filter(m -> m.election().leading()).toList();
    }

    @Test
    void oneLeaderEveryoneAgreesAndACleanStopHandsOverAtOnce() throws Exception {
        Map<String, Member> members = new LinkedHashMap<>();
        try {
            for (String id : List.of("a", "b", "c")) members.put(id, Member.join("f1", id));
            List<Member> all = new ArrayList<>(members.values());
            Await.until(Duration.ofSeconds(20), "a leader", () -> leaders(all).size() == 1);
            Member leader = leaders(all).get(0);
            // Who leads is seen without a round trip (a status never waits): asked in the background, shown to the next caller.
            for (Member m : all) {
                Await.until(Duration.ofSeconds(5), m.id() + " names the leader", () -> m.election().leader().equals(Optional.of(leader.id())));
            }
            long epoch = leader.election().leadership().orElseThrow().epoch();

            long t0 = System.nanoTime();
            leader.close();
            members.remove(leader.id());
            List<Member> rest = new ArrayList<>(members.values());
            Await.until(Duration.ofSeconds(5), "a new leader after a clean stop", () -> leaders(rest).size() == 1);
            long handoverMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(handoverMs < 3000, "a clean stop hands over at once (well inside the 6 s session timeout), took " + handoverMs + " ms");
            assertTrue(leaders(rest).get(0).election().leadership().orElseThrow().epoch() > epoch, "the epoch grows with each term");
            assertEquals(1, leaders(rest).size());
        } finally {
            for (Member m : members.values()) m.close();
        }
    }

    /**
     * The election's parent is a container znode: ZooKeeper removes it once empty, and the latch's
     * sequence numbers start again from 0. The epoch still grows (it is the latch znode's czxid).
     */
    @Test
    void theEpochGrowsAcrossAnEmptiedElection() throws Exception {
        long first;
        try (Member a = Member.join("f3", "a")) {
            Await.until(Duration.ofSeconds(20), "a leads", () -> a.election().leading());
            first = a.election().leadership().orElseThrow().epoch();
        }
        // What ZooKeeper's container manager does to an empty container (every minute by default), now.
        try (CuratorFramework c = zk.client("meerkat", Duration.ofSeconds(6))) {
            for (int tries = 0; ; tries++) { // the latch's own znode is deleted in the background at its close
                try {
                    c.delete().forPath("/fleets/f3/election");
                    break;
                } catch (org.apache.zookeeper.KeeperException.NotEmptyException notYet) {
                    if (tries > 100) throw notYet;
                    Thread.sleep(50);
                }
            }
        }
        try (Member b = Member.join("f3", "b")) {
            Await.until(Duration.ofSeconds(20), "b leads", () -> b.election().leading());
            assertTrue(b.election().leadership().orElseThrow().token().endsWith("0000000000"), "the sequence started again");
            long second = b.election().leadership().orElseThrow().epoch();
            assertTrue(second > first, "the epoch grows across an emptied election: " + first + " then " + second);
        }
    }

    @Test
    void aDeposedLeadersLateWriteIsRefused() throws Exception {
        try (Member a = Member.join("f2", "a"); Member b = Member.join("f2", "b")) {
            Await.until(Duration.ofSeconds(20), "a leader", () -> leaders(List.of(a, b)).size() == 1);
            Member first = a.election().leading() ? a : b, second = first == a ? b : a;
            Leadership old = first.election().leadership().orElseThrow();
            String path = "/fleets/f2/rollouts-state-probe";
            first.client().create().creatingParentsIfNeeded().forPath(path, "0".getBytes(StandardCharsets.UTF_8));
            FencedWrites firstWrites = new FencedWrites(first.client());
            int v = firstWrites.set(old, path, "1".getBytes(StandardCharsets.UTF_8), 0);
            assertEquals(1, v);

            // The leader's session ends (a long pause, a partition): its term is over, the other leads.
            SessionExpiry.expire(first.client(), zk.connectString());
            Await.until(Duration.ofSeconds(20), "the other leads", () -> second.election().leading());
            Await.until(Duration.ofSeconds(20), "the first knows it does not lead", () -> !first.election().leading());
            // leading() reads the latch at once; the listener hears it on the election's own thread, a moment later.
            Await.until(Duration.ofSeconds(20), "the first is told it was deposed", () -> first.events().contains("deposed"),
                    () -> first.events().toString());

            // Its write, made with the term it had, arrives late: ZooKeeper refuses it, even with the right version.
            Await.until(Duration.ofSeconds(20), "the first reconnected", () -> first.client().getZookeeperClient().isConnected());
            assertThrows(FencedWrites.NotLeaderException.class,
                    () -> firstWrites.set(old, path, "late".getBytes(StandardCharsets.UTF_8), 1));
            assertEquals("1", new String(second.client().getData().forPath(path), StandardCharsets.UTF_8));

            // The new leader writes; a stale version is refused as a version conflict, not as a lost term.
            Leadership now = second.election().leadership().orElseThrow();
            assertTrue(now.epoch() > old.epoch());
            FencedWrites secondWrites = new FencedWrites(second.client());
            assertEquals(2, secondWrites.set(now, path, "2".getBytes(StandardCharsets.UTF_8), 1));
            assertThrows(org.apache.zookeeper.KeeperException.BadVersionException.class,
                    () -> secondWrites.set(now, path, "3".getBytes(StandardCharsets.UTF_8), 1));
            assertFalse(first.election().leading());
        }
    }
}
