package dev.meerkat.coordination.election;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.coordination.session.Session;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A bounded set of election candidates on a real ZooKeeper server: of six agents only
 * {@code candidates} stand (latch znodes under the election), one leads, a candidate that leaves is
 * replaced, fewer candidates are given up live, and a fleet whose ACLs give no slots lets every
 * agent stand as before.
 */
class CandidacyTest {
    static final String ELECTION = "/meerkat/fleets/f/election", CANDIDATES = "/meerkat/fleets/f/candidates";

    TestingServer server;
    final List<AutoCloseable> open = new ArrayList<>();

    /** One agent's election parts: its own session, election and candidacy. */
    final class Agent implements AutoCloseable {
        final String id;
        final CuratorFramework client;
        final Session session;
        final Election election;
        final Candidacy candidacy;
        volatile boolean leading;

        Agent(String id, int candidates) throws Exception {
            this.id = id;
            client = CuratorFrameworkFactory.newClient(server.getConnectString(), 10_000, 5_000, new RetryOneTime(100));
            client.start();
            assertTrue(client.blockUntilConnected(30, TimeUnit.SECONDS));
            session = new Session(client, Duration.ofSeconds(10));
            election = new Election(client, ELECTION, id, new Election.Listener() {
                @Override
                public void elected(Leadership leadership) {
                    leading = true;
                }

                @Override
                public void deposed() {
                    leading = false;
                }
            });
            candidacy = new Candidacy(client, CANDIDATES, id, candidates, election);
            candidacy.start(session);
            open.add(this);
        }

        @Override
        public void close() throws Exception {
            candidacy.close();
            election.close();
            session.close();
            client.close();
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                // closed by the test already
            }
        }
        if (server != null) server.close();
    }

    List<Agent> fleet(int n, int candidates) throws Exception {
        server = new TestingServer();
        List<Agent> agents = new ArrayList<>();
        for (int i = 0; i < n; i++) agents.add(new Agent("gw-" + i, candidates));
        return agents;
    }

    int latches(CuratorFramework c) throws Exception {
        return c.checkExists().forPath(ELECTION) == null ? 0 : c.getChildren().forPath(ELECTION).size();
    }

    static long count(List<Agent> agents, java.util.function.Predicate<Agent> p) {
        return agents.stream().filter(p).count();
    }

    @Test
    void onlyTheCandidatesStandAndOneThatLeavesIsReplaced() throws Exception {
        List<Agent> agents = fleet(6, 2);
        CuratorFramework look = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        look.start();
        open.add(look);
        await("two candidates, one leader", () -> count(agents, a -> a.candidacy.slot().isPresent()) == 2
                && latches(look) == 2 && count(agents, a -> a.leading) == 1);
        assertEquals(4, count(agents, a -> !a.election.standing()), "the others do not stand");
        for (Agent a : agents) assertEquals(agents.stream().filter(x -> x.leading).findFirst().orElseThrow().id,
                a.election.leader().orElse(null), "who leads, as " + a.id + " sees it (standing or not)");

        // The leader stops: its slot goes to another agent, and one of the two candidates leads.
        Agent leader = agents.stream().filter(a -> a.leading).findFirst().orElseThrow();
        leader.close();
        List<Agent> rest = agents.stream().filter(a -> a != leader).toList();
        await("the slot taken again, a new leader", () -> count(rest, a -> a.candidacy.slot().isPresent()) == 2
                && latches(look) == 2 && count(rest, a -> a.leading) == 1);

        // Fewer candidates, live: the one in slot-1 gives it up.
        for (Agent a : rest) a.candidacy.candidates(1);
        await("one candidate", () -> count(rest, a -> a.candidacy.slot().isPresent()) == 1 && latches(look) == 1
                && count(rest, a -> a.leading) == 1);
        assertEquals("slot-0", rest.stream().filter(a -> a.candidacy.slot().isPresent()).findFirst().orElseThrow().candidacy.slot().orElseThrow());
    }

    @Test
    void aFleetWhoseAclsGiveNoSlotsStandsAsBefore() throws Exception {
        server = new TestingServer();
        try (CuratorFramework op = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100))) {
            op.start();
            // A fleet provisioned before the slots: their parent is there, but devices may only read it.
            op.create().creatingParentsIfNeeded().withACL(ZooDefs.Ids.READ_ACL_UNSAFE).forPath(CANDIDATES);
        }
        List<Agent> agents = new ArrayList<>();
        for (int i = 0; i < 3; i++) agents.add(new Agent("gw-" + i, 1));
        await("all three stand, one leads", () -> latches(agents.get(0).client) == 3 && count(agents, a -> a.leading) == 1);
        assertEquals(0, count(agents, a -> a.candidacy.slot().isPresent()));
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void await(String what, Check c) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.ok()) {
            if (System.nanoTime() > end) throw new AssertionError("not in 20 s: " + what);
            Thread.sleep(20);
        }
    }
}
