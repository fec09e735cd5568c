package dev.meerkat.coordination.rollout;

import dev.meerkat.config.ConfigException;
import dev.meerkat.config.Durations;
import dev.meerkat.config.Json;
import dev.meerkat.config.RolloutDocument;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.election.Election;
import dev.meerkat.coordination.election.FencedWrites;
import dev.meerkat.coordination.election.Leadership;
import dev.meerkat.time.OnDemandScheduler;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's side of rollouts (SPEC §7): while this agent leads its fleet, it steps the fleet's
 * active rollout once per {@code tick} ({@link RolloutPlanner}) on the scheduler it is given, whose
 * one platform thread may block on ZooKeeper (with no rollout active it does not poll: a watch on
 * the rollouts' znode wakes it), and writes what the step decided: first the state (so
 * the devices of a new wave are recorded before any of them is targeted), then the targets that do
 * not name the rollout yet. Every write is fenced with the leadership ({@link FencedWrites}); once
 * leadership ends, the steps stop, and a write already on its way is refused by ZooKeeper.
 *
 * <p>One rollout runs at a time: the oldest one (by creation) that is not completed or aborted.
 * Later ones wait, {@code pending}, until it ends.
 */
public final class RolloutCoordinator implements Election.Listener, Closeable {
    private static final Logger log = LoggerFactory.getLogger(RolloutCoordinator.class);

    private final CuratorFramework client;
    private final FleetPaths paths;
    private final FencedWrites writes;
    private final Clock clock;
    private final Supplier<Duration> defaultHealthTimeout;
    private final Duration tick;
    private final Object lock = new Object();
    /** Creation zxids of rollouts seen completed or aborted. */
    private final java.util.Set<Long> ended = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService steps;
    /** The current term's steps, if this agent leads; guarded by {@code lock}. */
    private Term term;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicLong stepsTaken = new java.util.concurrent.atomic.AtomicLong();
    /** How often an idle leader looks at the rollouts all the same, should a watch be lost. */
    static final Duration IDLE_CHECK = Duration.ofMinutes(1);

    /**
     * @param steps where the steps run, one at a time: a scheduler of one thread that may block on
     *     ZooKeeper (the agent's starts its thread only when this agent is first elected)
     */
    public RolloutCoordinator(CuratorFramework client, FleetPaths paths, Clock clock, Supplier<Duration> defaultHealthTimeout,
                              Duration tick, ScheduledExecutorService steps) {
        this.client = client;
        this.steps = steps;
        this.paths = paths;
        this.writes = new FencedWrites(client);
        this.clock = clock;
        this.defaultHealthTimeout = defaultHealthTimeout;
        this.tick = tick;
    }

    /**
     * A scheduler for the steps: one daemon thread while there are steps to take ({@link
     * OnDemandScheduler}), a step a tick during a rollout; it goes 5 s after a step of an idle
     * leader, whose checks come once a minute ({@link #IDLE_CHECK}).
     */
    public static ScheduledExecutorService stepThread() {
        return new OnDemandScheduler("meerkat-rollouts", Duration.ofSeconds(5));
    }

    @Override
    public void elected(Leadership l) {
        synchronized (lock) {
            stopLoop();
            if (closed) return;
            log.info("coordinating the fleet's rollouts epoch={}", l.epoch());
            term = new Term(l);
            term.schedule(0);
        }
    }

    @Override
    public void deposed() {
        synchronized (lock) {
            stopLoop();
        }
    }

    private void stopLoop() {
        Term t = term;
        term = null;
        if (t != null) t.end(true);
    }

    /** Steps taken since this coordinator was made (for tests: that an idle leader does not poll). */
    long stepsTaken() {
        return stepsTaken.get();
    }

    /**
     * The steps of one term of leadership. While a rollout is active, one step a tick; while none
     * is, none at all: a watch on the rollouts' znode (set by each step's read of it) wakes the
     * term when one is created, and a step every {@link #IDLE_CHECK} stands in for a lost watch.
     * A step that finds the term over (a fenced write refused) ends it.
     */
    private final class Term implements Runnable {
        private final Leadership l;
        private final CuratorWatcher wake = event -> {
            if (event.getType() != Watcher.Event.EventType.None) {
                woken = true; // a step on its way may have read the znode before the change: another follows it
                schedule(0);
            }
        };
        private volatile boolean woken;
        private ScheduledFuture<?> next; // guarded by lock
        private volatile boolean over;

        Term(Leadership l) {
            this.l = l;
        }

        /** The next step in {@code nanos}, in place of one scheduled already. */
        void schedule(long nanos) {
            synchronized (lock) {
                if (over) return;
                if (next != null) next.cancel(false);
                try {
                    next = steps.schedule(this, nanos, TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    over = true;
                }
            }
        }

        /** @param interrupt whether a step on its way is interrupted (not when the step itself ends the term) */
        void end(boolean interrupt) {
            synchronized (lock) {
                over = true;
                if (next != null) next.cancel(interrupt);
            }
        }

        @Override
        public void run() {
            if (over) return;
            boolean active;
            woken = false;
            try {
                stepsTaken.incrementAndGet();
                active = step(l, wake);
            } catch (FencedWrites.NotLeaderException e) {
                log.warn("{}", e.getMessage());
                end(false);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // cancelled: the term is over
                return;
            } catch (Exception e) {
                if (Thread.currentThread().isInterrupted()) return;
                log.warn("rollout step failed, trying again: {}", e.toString());
                active = true;
            }
            schedule(woken ? 0 : active ? tick.toNanos() : IDLE_CHECK.toNanos());
        }
    }

    /**
     * One step over the fleet's rollouts. Completed and aborted ones never change again: they are
     * remembered (by their document's creation, so a rollout deleted and made again under the same
     * id counts as new) and cost a stat per step, not two reads. Returns whether a rollout is
     * active (running, paused, rejected, or made and its state not there yet): then the next step
     * comes a tick later; else only when {@code wake} (watching the rollouts' znode) says so.
     */
    boolean step(Leadership l, CuratorWatcher wake) throws Exception {
        List<String> ids;
        try {
            ids = client.getChildren().usingWatcher(wake).forPath(paths.rollouts());
        } catch (KeeperException.NoNodeException e) {
            if (client.checkExists().usingWatcher(wake).forPath(paths.rollouts()) != null) return true; // made meanwhile: look again
            return false;
        }
        record Candidate(String id, long created) {}
        List<Candidate> candidates = new ArrayList<>();
        for (String id : ids) {
            Stat stat = client.checkExists().forPath(paths.rollout(id));
            if (stat != null && !ended.contains(stat.getCzxid())) candidates.add(new Candidate(id, stat.getCzxid()));
        }
        candidates.sort(Comparator.comparingLong(Candidate::created));
        boolean waiting = false;
        for (Candidate c : candidates) {
            FencedWrites.Read stateRead = writes.read(paths.rolloutState(c.id()));
            if (!stateRead.exists()) {
                waiting = true; // made by `meerkat rollout create` with the document, its state not there yet
                continue;
            }
            RolloutState state;
            try {
                state = RolloutState.read(stateRead.data());
                if (state == null || state.status() == null || state.waves() == null || state.devices() == null) {
                    throw new java.io.IOException("it is not a rollout state");
                }
            } catch (java.io.IOException | RuntimeException | StackOverflowError e) {
                // Every device may write a rollout's state (its ACL): one that is not what a leader writes
                // must not stop the fleet's rollouts. It is ended, saying why; which devices it reached is
                // not known any more, so a new rollout decides again from each device's firmware.
                String why = "its state znode could not be read (" + (e instanceof StackOverflowError ? "nested too deeply" : e.getMessage())
                        + "); aborted by the leader: check the devices' firmware before a new rollout";
                log.warn("rollout {}: {}", c.id(), why);
                writes.set(l, paths.rolloutState(c.id()), Json.write(new RolloutState("aborted", why, 0, List.of(), Map.of(), 0, 0, -1,
                        l.leader(), l.epoch(), clock.instant().toString())), stateRead.version());
                ended.add(c.created());
                continue;
            }
            if (state.isFinal()) {
                ended.add(c.created());
                continue;
            }
            Stat stat = new Stat();
            byte[] doc;
            try {
                doc = client.getData().storingStatIn(stat).forPath(paths.rollout(c.id()));
            } catch (KeeperException.NoNodeException e) {
                continue; // deleted meanwhile
            }
            stepOne(l, c.id(), doc, stat.getVersion(), state, stateRead.version());
            return true; // one rollout at a time: later ones wait for this one to end
        }
        return waiting;
    }

    private void stepOne(Leadership l, String id, byte[] docBytes, int docVersion, RolloutState state, int stateVersion) throws Exception {
        RolloutDocument doc;
        try {
            doc = RolloutDocument.parse(docBytes, paths.relative(paths.rollout(id)));
        } catch (ConfigException e) {
            String why = "the rollout document is invalid: " + String.join("; ", e.errors().stream().map(Object::toString).toList());
            RolloutState rejected = new RolloutState("rejected", why, state.population(), state.waves(), state.devices(),
                    state.failures(), state.failuresAccepted(), state.pausedAtDocVersion(), l.leader(), l.epoch(), clock.instant().toString());
            if (!RolloutPlanner.same(rejected, state)) writes.set(l, paths.rolloutState(id), Json.write(rejected), stateVersion);
            return;
        }
        List<String> members;
        try {
            members = client.getChildren().forPath(paths.members());
        } catch (KeeperException.NoNodeException e) {
            members = List.of();
        }
        Map<String, FirmwareReport> reports = new HashMap<>();
        for (var e : state.devices().entrySet()) {
            if (e.getValue().finished()) continue;
            FencedWrites.Read r = writes.read(paths.firmwareReport(e.getKey()));
            if (r.exists() && r.data().length > 0) {
                try {
                    reports.put(e.getKey(), FirmwareReport.read(r.data()));
                } catch (java.io.IOException bad) {
                    log.debug("unreadable report of {}: {}", e.getKey(), bad.toString());
                }
            }
        }
        var plan = RolloutPlanner.step(new RolloutPlanner.Input(id, doc, docVersion, state, members, reports, clock.instant(),
                defaultHealthTimeout.get(), l.leader(), l.epoch()));
        if (!RolloutPlanner.same(plan.next(), state)) {
            writes.set(l, paths.rolloutState(id), Json.write(plan.next()), stateVersion);
            if (!plan.next().status().equals(state.status()) || plan.next().waves().size() != state.waves().size()) {
                log.info("rollout {} {} wave {}/{} failures {}{}", id, plan.next().status(), plan.next().waves().size(),
                        doc.waves().size(), plan.next().failures(), plan.next().reason() == null ? "" : ": " + plan.next().reason());
            }
        }
        for (String device : plan.targets()) target(l, id, doc, device);
    }

    /** Writes the device's target, unless it names this rollout already (so a new leader never sends one twice). */
    private void target(Leadership l, String id, RolloutDocument doc, String device) throws Exception {
        String path = paths.firmwareTarget(device);
        FencedWrites.Read current = writes.read(path);
        if (current.exists() && current.data().length > 0) {
            try {
                if (FirmwareTarget.read(current.data()).names(id, doc.firmware())) return;
            } catch (java.io.IOException unreadable) {
                // overwritten below
            }
        }
        Duration timeout = doc.healthTimeout().orElse(defaultHealthTimeout.get());
        byte[] data = Json.write(new FirmwareTarget(id, doc.firmware(), doc.artifact(), doc.installer(), Durations.format(timeout),
                l.leader(), l.epoch(), clock.instant().toString()));
        if (current.exists()) {
            writes.set(l, path, data, current.version());
        } else {
            // The device's firmware znode, if provisioning did not make it (an open ensemble): plain, empty parents.
            try {
                client.create().creatingParentsIfNeeded().forPath(path.substring(0, path.lastIndexOf('/')));
            } catch (KeeperException.NodeExistsException e) {
                // there already
            }
            writes.create(l, path, data);
        }
        log.info("rollout {}: target {} for {}", id, doc.firmware(), device);
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            stopLoop();
        }
    }
}
