package dev.meerkat.coordination.election;

import java.io.Closeable;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's leader election at {@code /fleets/F/election} (SPEC §3, §7), with Curator's
 * {@link LeaderLatch}: each agent has an ephemeral sequential znode there, the lowest one leads.
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
 * <p>The listener runs on the election's own platform thread, never on ZooKeeper's event thread.
 */
public final class Election implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Election.class);

    /** What this agent does with leadership. Both calls come from one thread, in order. */
    public interface Listener {
        void elected(Leadership leadership);

        void deposed();
    }

    private final LeaderLatch latch;
    private final String id;
    private final ExecutorService events;
    private final AtomicReference<Leadership> current = new AtomicReference<>();
    private volatile boolean closed;

    public Election(CuratorFramework client, String path, String id, Listener listener) {
        this.id = id;
        this.latch = new LeaderLatch(client, path, id, LeaderLatch.CloseMode.NOTIFY_LEADER);
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "meerkat-election");
            t.setDaemon(true);
            return t;
        });
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                String token = latch.getOurPath();
                // Leadership may have gone again between the callback and now: then there is nothing to hand out.
                if (token == null || !latch.hasLeadership()) return;
                Leadership l = new Leadership(id, token, Leadership.epochOf(token));
                Leadership before = current.getAndSet(l);
                if (before != null && !before.equals(l)) listener.deposed();
                log.info("leading the fleet epoch={}", l.epoch());
                listener.elected(l);
            }

            @Override
            public void notLeader() {
                if (current.getAndSet(null) == null) return;
                log.info("no longer leading the fleet");
                listener.deposed();
            }
        }, events);
    }

    public void start() throws Exception {
        latch.start();
    }

    /** This agent's leadership now, if it leads; check it before each decision, and fence each write. */
    public Optional<Leadership> leadership() {
        Leadership l = current.get();
        return l != null && latch.hasLeadership() && l.token().equals(latch.getOurPath()) ? Optional.of(l) : Optional.empty();
    }

    public boolean leading() {
        return leadership().isPresent();
    }

    /**
     * Who leads, by device id, as ZooKeeper shows it now; empty if nobody does or ZooKeeper did not
     * answer within {@code timeoutMs} (the call is made on another thread, so a status never hangs).
     */
    public Optional<String> leader(long timeoutMs) {
        if (leading()) return Optional.of(id);
        if (closed) return Optional.empty();
        ExecutorService ask = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "meerkat-election-ask");
            t.setDaemon(true);
            return t;
        });
        try {
            Future<Participant> f = ask.submit(latch::getLeader);
            Participant p = f.get(timeoutMs, TimeUnit.MILLISECONDS);
            return p == null || !p.isLeader() || p.getId().isEmpty() ? Optional.empty() : Optional.of(p.getId());
        } catch (Exception e) {
            return Optional.empty();
        } finally {
            ask.shutdownNow();
        }
    }

    /** Steps down and leaves the election: the latch znode is deleted, the next agent leads at once. */
    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        try {
            latch.close();
        } catch (IllegalStateException e) {
            // never started
        } finally {
            events.shutdown();
            try {
                events.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
