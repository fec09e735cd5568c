package dev.meerkat.coordination.election;

import dev.meerkat.time.OnDemandScheduler;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's leader election at {@code /fleets/F/election} (SPEC §3, §7), with Curator's
 * {@link LeaderLatch}: each agent that stands (its {@link Candidacy} says when) has an ephemeral
 * sequential znode there, the lowest one leads.
 *
 * <p>Leadership is handed out as a {@link Leadership}: the path of this agent's latch znode at the
 * moment it was elected. Every write the leader makes checks, in the same ZooKeeper transaction,
 * that this znode still exists ({@link FencedWrites}). Once the session that made it is gone (an
 * expiry, a crash), or the agent stepped down, the znode is gone and every late write fails; a
 * new latch znode of a later session is a different token, so a deposed leader cannot borrow it.
 *
 * <p>Curator's latch gives up leadership on SUSPENDED as well as on LOST (the standard connection
 * error policy), so the listener's {@link Listener#deposed} runs as soon as the connection is in
 * doubt. A clean {@link #close} deletes the latch znode, so the next agent leads at once; after a
 * crash, the next leads when the session expires.
 *
 * <p>The listener runs on the election's own platform thread (there while it has events to deliver),
 * never on ZooKeeper's event thread.
 */
public final class Election implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Election.class);

    /** What this agent does with leadership. Both calls come from one thread, in order. */
    public interface Listener {
        void elected(Leadership leadership);

        void deposed();
    }

    private final CuratorFramework client;
    private final String path, id;
    private final Listener listener;
    private final ExecutorService events;
    private final AtomicReference<Leadership> current = new AtomicReference<>();
    /** The latch while this agent stands; null while it does not ({@link Candidacy}). */
    private volatile LeaderLatch latch;
    private volatile boolean closed;
    /** Who led when last asked ({@link #leader()}), and when (System.nanoTime; 0: never, or out of date). */
    private volatile String leaderId;
    private volatile long leaderSeenAt;
    /** Asks who leads, off every caller's thread: made once, used by {@link #leader()}. */
    private final ExecutorService ask = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform()
            .name("meerkat-election-ask").daemon(true).unstarted(r));

    public Election(CuratorFramework client, String path, String id, Listener listener) {
        this.id = id;
        this.client = client;
        this.path = path;
        this.listener = listener;
        this.events = new OnDemandScheduler("meerkat-election");
    }

    private LeaderLatchListener listenerOf(LeaderLatch latch) {
        return new LeaderLatchListener() {
            @Override
            public void isLeader() {
                String token = latch.getOurPath();
                // Leadership may have gone again between the callback and now: then there is nothing to hand out.
                if (token == null || !latch.hasLeadership()) return;
                long epoch;
                try {
                    // The epoch is the zxid that created the latch znode: it grows for the ensemble's lifetime,
                    // also when the election's parent (a container znode) was removed while empty and its
                    // sequence numbers start again from 0.
                    org.apache.zookeeper.data.Stat stat = client.checkExists().forPath(token);
                    if (stat == null) return; // gone already: this term is over before it began
                    epoch = stat.getCzxid();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (Exception e) {
                    log.warn("elected, but the latch znode cannot be read ({}); waiting for the next term", e.toString());
                    return;
                }
                if (!latch.hasLeadership() || !token.equals(latch.getOurPath())) return;
                Leadership l = new Leadership(id, token, epoch);
                leaderId = id;
                Leadership before = current.getAndSet(l);
                if (before != null && !before.equals(l)) listener.deposed();
                log.info("leading the fleet epoch={}", l.epoch());
                listener.elected(l);
            }

            @Override
            public void notLeader() {
                leaderSeenAt = 0; // ask again at the next status
                if (current.getAndSet(null) == null) return;
                log.info("no longer leading the fleet");
                listener.deposed();
            }
        };
    }

    /** Stands in the election (every agent does when nothing bounds the candidates). */
    public void start() throws Exception {
        stand();
    }

    /** Joins the election with a latch znode of its own; nothing when it already stands. */
    public synchronized void stand() throws Exception {
        if (closed || latch != null) return;
        LeaderLatch l = new LeaderLatch(client, path, id, LeaderLatch.CloseMode.NOTIFY_LEADER);
        l.addListener(listenerOf(l), events);
        latch = l;
        l.start();
    }

    /** Leaves the election: the latch znode is deleted, and a leader steps down (deposed) first. */
    public synchronized void sitDown() {
        LeaderLatch l = latch;
        if (l == null) return;
        latch = null;
        try {
            l.close();
        } catch (IOException | IllegalStateException e) {
            log.warn("leaving the election: {}", e.toString());
        }
    }

    /** Whether this agent stands in the election now. */
    public boolean standing() {
        return latch != null;
    }

    /** This agent's leadership now, if it leads; check it before each decision, and fence each write. */
    public Optional<Leadership> leadership() {
        Leadership l = current.get();
        LeaderLatch latch = this.latch;
        return l != null && latch != null && latch.hasLeadership() && l.token().equals(latch.getOurPath()) ? Optional.of(l) : Optional.empty();
    }

    public boolean leading() {
        return leadership().isPresent();
    }

    /**
     * Who leads, by device id. When what was last seen is older than {@link #LEADER_FRESH}, it is
     * asked again on the election's own thread, and waited for at most {@link #LEADER_WAIT} while
     * connected; while not connected, or when the answer is late, what was last seen is the answer
     * (a status must not hang on ZooKeeper).
     */
    public Optional<String> leader() {
        if (leading()) return Optional.of(id);
        if (closed) return Optional.empty();
        long seen = leaderSeenAt;
        if ((seen == 0 || System.nanoTime() - seen > LEADER_FRESH.toNanos()) && client.getZookeeperClient().isConnected()) {
            java.util.concurrent.CountDownLatch answered = new java.util.concurrent.CountDownLatch(1);
            try {
                ask.execute(() -> {
                    try {
                        if (System.nanoTime() - leaderSeenAt > LEADER_FRESH.toNanos() || leaderSeenAt == 0) {
                            leaderId = leaderNow();
                            leaderSeenAt = System.nanoTime();
                        }
                    } catch (Exception e) {
                        if (e instanceof InterruptedException) Thread.currentThread().interrupt();
                        // not answered: what was seen stays, and the next caller asks again
                    } finally {
                        answered.countDown();
                    }
                });
                answered.await(LEADER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // closed meanwhile
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return Optional.ofNullable(leaderId);
    }

    /**
     * The id in the lowest latch znode, as Curator's {@code LeaderLatch.getLeader()} reads it, also
     * when this agent does not stand: one list of the candidates' znodes, one read.
     */
    private String leaderNow() throws Exception {
        List<String> children;
        try {
            children = new ArrayList<>(client.getChildren().forPath(path));
        } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
            return null;
        }
        children.sort(Comparator.comparing(Election::sequence));
        for (String c : children) {
            try {
                String who = new String(client.getData().forPath(path + "/" + c), java.nio.charset.StandardCharsets.UTF_8);
                return who.isEmpty() ? null : who;
            } catch (org.apache.zookeeper.KeeperException.NoNodeException gone) {
                // left meanwhile: the next one leads
            }
        }
        return null;
    }

    /** What a latch znode sorts by: its name from Curator's lock name on ({@code _c_<uuid>-latch-0000000007}). */
    static String sequence(String child) {
        int i = child.lastIndexOf(LATCH_NAME);
        return i < 0 ? child : child.substring(i + LATCH_NAME.length());
    }

    private static final String LATCH_NAME = "latch-";

    /** How long {@link #leader()} waits for ZooKeeper's answer before it answers with what was last seen. */
    static final java.time.Duration LEADER_WAIT = java.time.Duration.ofSeconds(1);

    /** How long a leader seen by {@link #leader()} is taken as current before it is asked again. */
    static final java.time.Duration LEADER_FRESH = java.time.Duration.ofSeconds(5);

    /** Steps down and leaves the election: the latch znode is deleted, the next agent leads at once. */
    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        try {
            sitDown();
        } finally {
            ask.shutdownNow();
            events.shutdown();
            try {
                events.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
