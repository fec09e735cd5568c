package dev.meerkat.coordination.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.election.Leadership;
import dev.meerkat.time.ManualScheduler;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The leader's step loop on a scheduler the test drives, against a real ZooKeeper server. What a
 * step does is observed through a rollout whose state znode is not a rollout state: a step aborts
 * it, saying why, so "aborted" appears exactly when a step has run.
 */
class RolloutCoordinatorTest {
    private static final Duration TICK = Duration.ofSeconds(1);
    private final FleetPaths paths = new FleetPaths("/meerkat", "f", "gw-1");
    private final ManualScheduler steps = new ManualScheduler();
    private TestingServer server;
    private CuratorFramework zk;
    private RolloutCoordinator coordinator;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        zk = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        zk.start();
        assertTrue(zk.blockUntilConnected(30, java.util.concurrent.TimeUnit.SECONDS));
        zk.create().creatingParentsIfNeeded().forPath(paths.rollouts());
        coordinator = new RolloutCoordinator(zk, paths, Clock.systemUTC(), () -> Duration.ofMinutes(5), TICK, steps);
    }

    @AfterEach
    void stop() throws Exception {
        coordinator.close();
        zk.close();
        server.close();
    }

    @Test
    void anIdleLeaderDoesNotPollAndARolloutMadeWakesItAtOnce() throws Exception {
        assertEquals(0, steps.pending(), "no steps before this agent leads");
        coordinator.elected(term());
        steps.runDue(); // the first step at once: no rollout
        assertEquals(1, coordinator.stepsTaken());
        steps.advance(Duration.ofSeconds(30));
        assertEquals(1, coordinator.stepsTaken(), "no rollout, no step: the leader does not poll");

        unreadable("r1"); // the watch on the rollouts' znode fires, on ZooKeeper's thread
        awaitStep(() -> status("r1").equals("aborted"));
        assertEquals(2, coordinator.stepsTaken());
        steps.advance(RolloutCoordinator.IDLE_CHECK.minusSeconds(1));
        assertEquals(2, coordinator.stepsTaken(), "idle again");
        steps.advance(Duration.ofSeconds(1));
        assertEquals(3, coordinator.stepsTaken(), "one look a minute, should a watch be lost");
    }

    @Test
    void anActiveRolloutIsSteppedOncePerTickUntilItEnds() throws Exception {
        zk.create().forPath(paths.rollout("r2"), "{}".getBytes(StandardCharsets.UTF_8)); // its state not there yet: active
        coordinator.elected(term());
        steps.runDue();
        assertEquals(1, coordinator.stepsTaken());
        steps.advance(TICK.minusMillis(1));
        assertEquals(1, coordinator.stepsTaken(), "no step before the tick");
        steps.advance(Duration.ofMillis(1));
        assertEquals(2, coordinator.stepsTaken());
        steps.advance(TICK.multipliedBy(3));
        assertEquals(5, coordinator.stepsTaken(), "one a tick");

        zk.create().forPath(paths.rolloutState("r2"), "garbage".getBytes(StandardCharsets.UTF_8));
        steps.advance(TICK);
        assertEquals("aborted", status("r2"));
        long after = coordinator.stepsTaken();
        steps.advance(TICK.multipliedBy(10));
        assertEquals(after, coordinator.stepsTaken(), "ended: no more ticks");

        coordinator.deposed();
        assertEquals(0, steps.pending(), "deposed: nothing scheduled");
        unreadable("r3");
        steps.advance(RolloutCoordinator.IDLE_CHECK.multipliedBy(2));
        assertEquals("garbage", status("r3"), "a deposed leader's watch wakes nothing");
    }

    @Test
    void aStepThatFindsTheTermOverEndsTheSteps() throws Exception {
        Leadership term = term();
        coordinator.elected(term);
        steps.runDue();
        zk.delete().forPath(term.token()); // the term ends: the latch znode is gone (a session expiry, say)
        unreadable("r1");
        awaitStep(() -> coordinator.stepsTaken() == 2);
        assertEquals("garbage", status("r1"), "the fenced write was refused");
        assertEquals(0, steps.pending(), "and the term's steps are over");
    }

    /** Runs what falls due until {@code done}: a step woken by a watch, whose event comes on ZooKeeper's thread. */
    private void awaitStep(java.util.concurrent.Callable<Boolean> done) throws Exception {
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (true) {
            steps.runDue();
            if (done.call()) return;
            if (System.nanoTime() > end) throw new AssertionError("no step woken in 10 s");
            Thread.sleep(10);
        }
    }

    @Test
    void closedItIsElectedNoMore() throws Exception {
        coordinator.close();
        coordinator.elected(term());
        assertEquals(0, steps.pending());
        assertNull(zk.checkExists().forPath(paths.rollout("r1")));
    }

    private Leadership term() throws Exception {
        String token = zk.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(paths.election() + "/latch-");
        return new Leadership("gw-1", token, zk.checkExists().forPath(token).getCzxid());
    }

    private void unreadable(String id) throws Exception {
        zk.create().forPath(paths.rollout(id), "{}".getBytes(StandardCharsets.UTF_8));
        zk.create().forPath(paths.rolloutState(id), "garbage".getBytes(StandardCharsets.UTF_8));
    }

    private String status(String id) throws Exception {
        String state = new String(zk.getData().forPath(paths.rolloutState(id)), StandardCharsets.UTF_8);
        return state.equals("garbage") ? state : RolloutState.read(state.getBytes(StandardCharsets.UTF_8)).status();
    }
}
