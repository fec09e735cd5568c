package dev.meerkat.coordination.election;

import dev.meerkat.coordination.session.Session;
import dev.meerkat.time.OnDemandScheduler;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who of the fleet stands in its {@link Election} (SPEC §3, docs/scaling.md): at most
 * {@code candidates} agents, each holding one of the ephemeral slots {@code /fleets/F/candidates/slot-0}
 * to {@code slot-(candidates-1)}, its device id as the content. An agent without a slot watches the
 * slots' parent and, when one frees (its holder stopped or its session ended), tries for it after a
 * random moment of {@link #RETRY_SPREAD}, so that not the whole fleet asks at once.
 *
 * <p>Leadership needs only a few candidates, and every candidate costs the ensemble: each holds a
 * latch znode, and Curator's latch lists the election's children when it joins and after every
 * reconnect, so after a leader kill or a network blip the replies grow with the square of the
 * candidates. With slots that is {@code candidates²}, not the fleet's size squared. Safety is the
 * election's (fenced writes, a new leader resumes the rollouts): it does not depend on who stands.
 *
 * <p>When the slots' parent cannot be created or written (a fleet provisioned before it existed,
 * whose ACLs do not let a device create it) the agent stands as every agent did before, and says so
 * once: {@code meerkat provision} again makes it.
 *
 * <p>Everything runs on one platform thread of its own (there while it has work); nothing waits on it.
 */
public final class Candidacy implements Closeable, Session.Listener {
    private static final Logger log = LoggerFactory.getLogger(Candidacy.class);
    /** The window of random moments at which agents without a slot try for one that freed. */
    static final java.time.Duration RETRY_SPREAD = java.time.Duration.ofSeconds(2);
    private static final String SLOT = "slot-";

    private final CuratorFramework client;
    private final String path, id;
    private final Election election;
    private final ScheduledExecutorService thread = new OnDemandScheduler("meerkat-candidacy");
    private final AtomicBoolean retryPending = new AtomicBoolean();
    private volatile int candidates;
    private volatile boolean closed;
    private Session session;
    /** The slot this agent holds (a path), on {@link #thread}; null when none. */
    private volatile String slot;
    private boolean unbounded;
    /** This session's candidacy was decided (a slot held, or watched for); on {@link #thread}. */
    private boolean decided;

    public Candidacy(CuratorFramework client, String path, String id, int candidates, Election election) {
        this.client = client;
        this.path = path;
        this.id = id;
        this.candidates = candidates;
        this.election = election;
    }

    public void start(Session session) {
        this.session = session;
        session.listen(this);
        run(this::evaluate);
    }

    /** The fleet's {@code election.candidates} now: a slot past it is given up, a new one tried for. */
    public void candidates(int n) {
        if (n == candidates) return;
        candidates = n;
        run(this::evaluate);
    }

    /** The slot this agent holds (its name), if it holds one. */
    public java.util.Optional<String> slot() {
        String s = slot;
        return s == null ? java.util.Optional.empty() : java.util.Optional.of(s.substring(s.lastIndexOf('/') + 1));
    }

    @Override
    public void connected(long sessionId, boolean newSession) {
        run(() -> {
            if (newSession) {
                decided = false;
                if (slot != null) {
                    // The slot was an ephemeral of the session that ended; so was the latch znode.
                    slot = null;
                    election.sitDown();
                }
            }
            // The same session back: its slot and its watch are still there (ZooKeeper sets the watch
            // again and fires it if the slots changed meanwhile), so a fleet-wide reconnect costs nothing here.
            if (!decided) evaluate();
        });
    }

    @Override
    public void lost() {
        // The slot went with the session. The latch stays as it is (it stepped down at the
        // suspension): closing it now would only queue deletes that fail while ZooKeeper is away.
        // The next session decides again (connected).
        run(() -> {
            slot = null;
            decided = false;
        });
    }

    private void run(Runnable r) {
        if (closed) return;
        try {
            thread.execute(r);
        } catch (RejectedExecutionException stopping) {
            // closed
        }
    }

    /** A slot's holder left: after a random moment, the slots are looked at again (once, however many events came). */
    private final CuratorWatcher slotsChanged = event -> {
        if (event.getType() != Watcher.Event.EventType.NodeChildrenChanged || closed) return;
        if (retryPending.compareAndSet(false, true)) {
            try {
                thread.schedule(() -> {
                    retryPending.set(false);
                    evaluate();
                }, ThreadLocalRandom.current().nextLong(RETRY_SPREAD.toMillis() + 1), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException stopping) {
                retryPending.set(false);
            }
        }
    };

    /** On {@link #thread}: decides this session's candidacy, unless it is not connected. */
    private void evaluate() {
        if (closed || session == null || !session.connected()) return;
        try {
            decide();
            decided = true;
        } catch (KeeperException.NoAuthException e) {
            standUnbounded("the ZooKeeper ACLs do not let this device take a candidate slot under " + path
                    + " (run meerkat provision again to create it)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // Not connected, most likely: the next connection event evaluates again.
            log.debug("candidacy not decided: {}", e.toString());
        }
    }

    /** Holds a slot and stands, or sits down and watches for one. */
    private void decide() throws Exception {
        if (unbounded) {
            election.stand();
            return;
        }
        int n = candidates;
        if (slot != null) {
            if (index(slot) < n) {
                election.stand();
                return;
            }
            // Fewer candidates now: this slot is past them.
            log.info("giving up candidate slot {} (election.candidates is {})", slot, n);
            election.sitDown();
            deleteQuietly(slot);
            slot = null;
        }
        List<String> taken = children();
        String mine = ours(taken);
        if (mine != null && index(mine) < n) {
            slot = mine; // made before a connection loss hid the answer
            election.stand();
            return;
        }
        Set<Integer> used = new HashSet<>();
        for (String c : taken) used.add(index(c));
        for (int i = 0; i < n; i++) {
            if (used.contains(i)) continue;
            try {
                slot = client.create().withMode(CreateMode.EPHEMERAL).forPath(path + "/" + SLOT + i, id.getBytes(StandardCharsets.UTF_8));
                log.info("standing in the fleet's election, candidate slot {}", slot);
                election.stand();
                return;
            } catch (KeeperException.NodeExistsException raced) {
                // Another took it first, or this session did, its answer lost with a connection (Curator retried).
                String ownRetry = ours(List.of(SLOT + i));
                if (ownRetry != null) {
                    slot = ownRetry;
                    election.stand();
                    return;
                }
            }
        }
        election.sitDown(); // every slot taken: the watch set by children() says when one frees
    }

    /** The slots taken now, watching for a change while this agent has none. */
    private List<String> children() throws Exception {
        try {
            return client.getChildren().usingWatcher(slotsChanged).forPath(path);
        } catch (KeeperException.NoNodeException e) {
            client.create().creatingParentContainersIfNeeded().withMode(CreateMode.CONTAINER).forPath(path);
            return client.getChildren().usingWatcher(slotsChanged).forPath(path);
        }
    }

    /** The slot among {@code taken} that this session made, if any. */
    private String ours(List<String> taken) throws Exception {
        long sid = client.getZookeeperClient().getZooKeeper().getSessionId();
        for (String c : taken) {
            Stat st = new Stat();
            try {
                byte[] who = client.getData().storingStatIn(st).forPath(path + "/" + c);
                if (st.getEphemeralOwner() == sid && id.equals(new String(who, StandardCharsets.UTF_8))) return path + "/" + c;
            } catch (KeeperException.NoNodeException gone) {
                // freed meanwhile
            }
        }
        return null;
    }

    private void standUnbounded(String why) {
        if (!unbounded) log.warn("every agent of this fleet may stand in the election: {}", why);
        unbounded = true;
        try {
            election.stand();
            decided = true;
        } catch (Exception e) {
            log.warn("cannot join the fleet's election: {}", e.toString());
        }
    }

    static int index(String slotPath) {
        String name = slotPath.substring(slotPath.lastIndexOf('/') + 1);
        try {
            return name.startsWith(SLOT) ? Integer.parseInt(name.substring(SLOT.length())) : Integer.MAX_VALUE;
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    private void deleteQuietly(String p) {
        try {
            client.delete().forPath(p);
        } catch (Exception e) {
            log.debug("slot {} not deleted: {}", p, e.toString());
        }
    }

    /** Gives the slot up (the next agent takes it) and stops watching; the election is closed by its owner. */
    @Override
    public void close() {
        closed = true;
        if (session != null) session.unlisten(this);
        thread.shutdownNow();
        dev.meerkat.coordination.Watches.removeAll(client, path);
        try {
            thread.awaitTermination(1, TimeUnit.SECONDS); // interrupted: a ZooKeeper call in progress ends
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String s = slot;
        if (s != null) {
            election.sitDown();
            slot = null;
            try {
                // In the background: a stop must not wait on ZooKeeper (the session's end removes it anyway).
                client.delete().quietly().inBackground().forPath(s);
            } catch (Exception e) {
                log.debug("slot {} not deleted: {}", s, e.toString());
            }
        }
    }
}
