package dev.meerkat.coordination.locks;

import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.time.Ticker;
import java.io.Closeable;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.StandardLockInternalsDriver;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The locks on shared hardware (SPEC §6): {@code /locks/<lock>} under the root, with Curator's
 * mutex recipe ({@link InterProcessMutex}: an ephemeral sequential znode per waiter, the lowest
 * holds).
 *
 * <p><b>Fencing token.</b> The token of a hold is the creation zxid ({@code czxid}) of its lock
 * znode, read from the create itself (no extra round trip). Holders of one lock hold in the order
 * their znodes were created, and zxids only grow across the whole ensemble (leader changes included;
 * the epoch is in the high bits), so tokens only grow, even when the lock's parent znode is removed
 * and made again, which would restart the znodes' sequence numbers.
 *
 * <p><b>Validity.</b> See {@link Hold}: a hold is valid while the connection is not suspended and
 * within its lease, half the negotiated session timeout from the last moment the servers are known
 * to have heard from the session.
 *
 * <p><b>Threads.</b> Curator's mutex belongs to the thread that acquired it, and blocks inside
 * {@code synchronized} (which pins a virtual thread's carrier on Java 21). So each lock has one
 * platform thread of its own that acquires and releases it; {@link #acquire} may be called from any
 * thread, virtual ones included, and waits for that thread.
 */
public final class HardwareLocks implements Session.Listener, Closeable {
    private static final Logger log = LoggerFactory.getLogger(HardwareLocks.class);

    private final CuratorFramework client;
    private final Session session;
    private final String root;
    final Ticker ticker;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final AtomicLong epoch = new AtomicLong();
    private final AtomicLong acquired = new AtomicLong(), timedOut = new AtomicLong(), failed = new AtomicLong();

    public HardwareLocks(CuratorFramework client, Session session, String root) {
        this(client, session, root, Ticker.SYSTEM);
    }

    /** The same with the monotonic time source leases are measured on (a test's, to run one out). */
    public HardwareLocks(CuratorFramework client, Session session, String root, Ticker ticker) {
        this.client = client;
        this.session = session;
        this.root = root;
        this.ticker = ticker;
        session.listen(this);
    }

    long epoch() {
        return epoch.get();
    }

    @Override
    public void suspended() {
        voidHolds("suspended");
    }

    @Override
    public void lost() {
        voidHolds("lost");
    }

    private void voidHolds(String why) {
        epoch.incrementAndGet();
        long held = entries.values().stream().filter(e -> e.current != null).count();
        if (held > 0) log.warn("zookeeper connection {}: {} hardware lock hold(s) void; their sensors stop touching the hardware", why, held);
    }

    /**
     * Takes lock {@code name}, waiting at most {@code wait}. Empty when it did not come free in time.
     *
     * @throws LockException when it cannot be taken at all (not connected to ZooKeeper, an error)
     */
    public Optional<Hold> acquire(String name, Duration wait) throws LockException, InterruptedException {
        if (!session.connected()) {
            failed.incrementAndGet();
            throw new LockException("lock " + name + ": not connected to ZooKeeper");
        }
        Entry entry = entries.computeIfAbsent(name, Entry::new);
        Future<Hold> f;
        // Who has the hold: the caller (DELIVERED) or nobody, since the caller gave up (ABANDONED).
        AtomicInteger handoff = new AtomicInteger(WAITING);
        try {
            f = entry.thread.submit(() -> entry.acquire(wait, handoff));
        } catch (RejectedExecutionException closed) {
            throw new LockException("lock " + name + ": the agent is stopping");
        }
        try {
            // The acquisition itself is bounded by wait; the margin covers a release queued before it.
            Hold h = f.get(wait.toMillis() + 30_000, TimeUnit.MILLISECONDS);
            if (h == null) timedOut.incrementAndGet();
            else acquired.incrementAndGet();
            return Optional.ofNullable(h);
        } catch (ExecutionException e) {
            failed.incrementAndGet();
            Throwable c = e.getCause();
            if (c instanceof LockException le) throw le;
            // Not a ZooKeeper answer but a fault of the code: its stack belongs in the log.
            if (c instanceof RuntimeException) log.error("lock {}: unexpected failure", name, c);
            throw new LockException("lock " + name + ": " + c, c);
        } catch (TimeoutException e) {
            abandon(f, handoff);
            failed.incrementAndGet();
            throw new LockException("lock " + name + ": ZooKeeper did not answer in time");
        } catch (InterruptedException e) {
            // The sensor's watchdog gave up on the wait (ZooKeeper went away during it, say): the
            // acquisition stops too, so that the next one does not queue behind it.
            abandon(f, handoff);
            throw e;
        }
    }

    /**
     * Gives up on an acquisition: it is interrupted, and a hold it took all the same is released,
     * whether it came before the caller gave up or after.
     */
    private static void abandon(Future<Hold> f, AtomicInteger handoff) {
        if (handoff.compareAndSet(WAITING, ABANDONED)) {
            f.cancel(true); // the acquisition releases what it took when it sees ABANDONED
            return;
        }
        boolean interrupted = Thread.interrupted();
        try {
            Hold h = f.get(); // delivered: it is there, or all but
            if (h != null) h.close();
        } catch (InterruptedException | ExecutionException | java.util.concurrent.CancellationException e) {
            // no hold to release
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private static final int WAITING = 0, DELIVERED = 1, ABANDONED = 2;

    /** The locks held now, by name, with their tokens. */
    public Map<String, Long> held() {
        Map<String, Long> m = new java.util.TreeMap<>();
        entries.forEach((n, e) -> {
            Hold h = e.current;
            if (h != null && h.valid()) m.put(n, h.token());
        });
        return m;
    }

    /** Counters since start: holds taken, waits that ran out, acquisitions that failed. */
    public record Counters(long acquired, long timedOut, long failed) {}

    public Counters counters() {
        return new Counters(acquired.get(), timedOut.get(), failed.get());
    }

    @Override
    public void close() {
        session.unlisten(this);
        epoch.incrementAndGet();
        for (Entry e : entries.values()) {
            Hold h = e.current;
            if (h != null) h.close();
            e.thread.shutdown();
        }
        for (Entry e : entries.values()) {
            try {
                if (!e.thread.awaitTermination(5, TimeUnit.SECONDS)) e.thread.shutdownNow();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Curator's standard lock driver, keeping the stat of each lock znode it creates. */
    private static final class TokenDriver extends StandardLockInternalsDriver {
        final Map<String, Long> czxids = new ConcurrentHashMap<>();

        @Override
        public String createsTheLock(CuratorFramework client, String path, byte[] lockNodeBytes) throws Exception {
            Stat stat = new Stat();
            String created = client.create().storingStatIn(stat).creatingParentContainersIfNeeded().withProtection()
                    .withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(path, lockNodeBytes);
            // After a connection loss Curator finds a protected znode by its name; the stat is then not filled.
            if (stat.getCzxid() != 0) czxids.put(created, stat.getCzxid());
            return created;
        }
    }

    /** Curator's mutex, saying which znode it holds. */
    private static final class Mutex extends InterProcessMutex {
        Mutex(CuratorFramework client, String path, TokenDriver driver) {
            super(client, path, driver);
        }

        String path() {
            return getLockPath();
        }
    }

    final class Entry {
        final String name;
        final HardwareLocks owner = HardwareLocks.this;
        final ExecutorService thread;
        private final TokenDriver driver = new TokenDriver();
        private final Mutex mutex;
        volatile Hold current;

        Entry(String name) {
            this.name = name;
            this.mutex = new Mutex(client, FleetPaths.lock(root, name), driver);
            this.thread = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon(true)
                    .name("meerkat-lock-" + name).unstarted(r));
        }

        /** On this lock's thread. */
        Hold acquire(Duration wait, AtomicInteger handoff) throws Exception {
            long e = epoch.get();
            long lease = TimeUnit.MILLISECONDS.toNanos(Math.max(1, session.negotiatedTimeoutMs()) / 2);
            long t0 = ticker.nanos();
            if (!mutex.acquire(wait.toMillis(), TimeUnit.MILLISECONDS)) return null;
            String path = mutex.path();
            Long token = path == null ? null : driver.czxids.remove(path);
            long validUntil = t0 + lease;
            try {
                if (token == null || validUntil - ticker.nanos() < lease / 2) {
                    // A long wait (or no stat from the create): show again that the session is alive and owns the znode.
                    long t1 = ticker.nanos();
                    Stat st = client.checkExists().forPath(path);
                    long sid = client.getZookeeperClient().getZooKeeper().getSessionId();
                    if (st == null || st.getEphemeralOwner() != sid) throw new LockException("lock " + name + ": its znode is gone");
                    token = st.getCzxid();
                    validUntil = t1 + lease;
                }
                if (epoch.get() != e) throw new LockException("lock " + name + ": the ZooKeeper connection was suspended while taking it");
            } catch (Exception ex) {
                releaseNow();
                throw ex;
            }
            Hold h = new Hold(this, token, e, validUntil);
            if (!handoff.compareAndSet(WAITING, DELIVERED)) {
                releaseNow(); // the caller gave up while this was being taken
                return null;
            }
            current = h;
            return h;
        }

        void release(Hold h) {
            try {
                thread.execute(() -> {
                    if (current == h) current = null;
                    releaseNow();
                });
            } catch (RejectedExecutionException closed) {
                // Stopping: the session's end removes the znode.
            }
        }

        private void releaseNow() {
            try {
                if (mutex.isOwnedByCurrentThread()) mutex.release();
            } catch (Exception ex) {
                // Curator's release deletes with "guaranteed": it keeps trying in the background.
                log.warn("lock {} release failed: {}", name, ex.toString());
            }
        }
    }
}
