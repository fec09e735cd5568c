package dev.meerkat.coordination.registration;

import dev.meerkat.config.Json;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.time.OnDemandScheduler;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
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
 * The gateway's member znode {@code /fleets/F/members/D} (SPEC §5): ephemeral, and counted only
 * when its {@code ephemeralOwner} is this agent's current session.
 *
 * <p>A pass runs whenever something may have changed: the first connect, a reconnect under the
 * same session (verify ownership), a new session after an expiry (register again), the znode
 * deleted or changed by someone else (a watch).
 * A pass:
 * <ol>
 *   <li>creates the znode; done if that works;
 *   <li>if it exists and this session owns it: done (its content corrected if needed);
 *   <li>if it exists and belongs to an earlier session <em>of this gateway</em> (this process's
 *       previous session, declared lost before the servers expired it; or the session of the
 *       process that ran before a crash, read from {@code storage.dir/session}): takes it over in
 *       one transaction, deleting that version and creating its own, so that the fleet never sees
 *       the gateway missing and never sees two owners;
 *   <li>if it belongs to a session this gateway does not know: another agent may run with the same
 *       device id. It is left alone, the conflict is logged and reported, and the pass runs again
 *       when that znode goes.
 * </ol>
 * A pass that fails on the connection is tried again with a backoff (200 ms doubling to 5 s). The
 * blocking steps (the rare cases above, the log, the session file) run on one platform thread of
 * the registration's own.
 */
public final class Registration implements Session.Listener, Closeable {
    private static final Logger log = LoggerFactory.getLogger(Registration.class);
    private static final long RETRY_MIN_MS = 200, RETRY_MAX_MS = 5_000;
    /** The watch on the member znode is set within this long after creating it (see {@link #watchSoon}). */
    private static final long WATCH_SPREAD_MS = 500;

    private final CuratorFramework client;
    private final String path;
    private final byte[] data;
    private final Optional<Path> sessionFile;
    /** Sessions this gateway had before the current one: their znode may be taken over. */
    private final Set<Long> earlier = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService worker;
    private final AtomicBoolean pending = new AtomicBoolean(), closed = new AtomicBoolean();
    private final CountDownLatch firstRegistered = new CountDownLatch(1);
    private final CuratorWatcher watcher = event -> {
        if (event.getType() == Watcher.Event.EventType.NodeDeleted) ownedBy = 0; // not registered until the pass creates it again
        if (event.getType() != Watcher.Event.EventType.None) schedule(0);
    };
    private volatile long ownedBy;
    private volatile long conflictWith;
    private volatile long retryMs = RETRY_MIN_MS;

    /**
     * @param sessionFile where the session of the last registration is kept across restarts
     *     ({@code storage.dir/session}), so that the next start can take over the znode of a process
     *     that crashed; empty to keep nothing
     */
    public Registration(CuratorFramework client, String path, MemberInfo info, Optional<Path> sessionFile) {
        this.client = client;
        this.path = path;
        this.data = Json.write(info);
        this.sessionFile = sessionFile;
        sessionFile.flatMap(Registration::readSession).ifPresent(earlier::add);
        // A thread only while there is work (OnDemandScheduler): at rest there is none.
        this.worker = new OnDemandScheduler("meerkat-registration");
    }

    /** Starts registering with {@code session}'s connects (at once if it is connected already). */
    public void start(Session session) {
        session.listen(this);
        log.info("registration started path={}", path);
    }

    @Override
    public void connected(long sessionId, boolean newSession) {
        schedule(0);
    }

    @Override
    public void lost() {
        long was = ownedBy;
        if (was != 0) earlier.add(was);
        ownedBy = 0;
    }

    /** Waits until registered for the first time; false when that did not happen in time (it goes on trying). */
    public boolean awaitRegistered(Duration timeout) throws InterruptedException {
        return firstRegistered.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Registered means: the znode exists and its owner is this client's current session, not an
     * earlier one whose znode has not gone yet. Asks ZooKeeper (blocking; not for hot paths).
     */
    public boolean isRegistered() {
        try {
            Stat stat = client.checkExists().forPath(path);
            return stat != null && stat.getEphemeralOwner() == currentSession();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * Registered under {@code sessionId}, as this agent last verified it (a create, a read, or the
     * watch telling of a deletion), without a round trip: what a status or a health check asks.
     */
    public boolean registeredIn(long sessionId) {
        return sessionId != 0 && ownedBy == sessionId;
    }

    /** The session this agent last verified as the owner, or 0: what the status reports, without a round trip. */
    public long ownedBy() {
        return ownedBy;
    }

    /** The session of another agent holding this device's znode, or 0 when there is no such conflict. */
    public long conflictWith() {
        return conflictWith;
    }

    /**
     * A pass now or after {@code delayMs}. A pass does not block (its create is asynchronous), so
     * "now" runs it on the calling thread, whichever that is: no hand-over to another thread.
     */
    private void schedule(long delayMs) {
        if (closed.get()) return;
        if (!pending.compareAndSet(false, true)) return;
        if (delayMs <= 0) {
            pass();
            return;
        }
        try {
            worker.schedule(this::pass, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            pending.set(false);
        }
    }

    private long currentSession() throws Exception {
        return client.getZookeeperClient().getZooKeeper().getSessionId();
    }

    /**
     * One registration pass (see the class comment). It never blocks: the common case, a create, is
     * asynchronous, and the rare case (the znode exists) goes to the worker thread. When a whole
     * fleet registers at once (after an ensemble restart), a thread blocked per agent would cost
     * more than the create itself.
     */
    private void pass() {
        pending.set(false);
        if (closed.get()) return;
        try {
            if (!client.getZookeeperClient().isConnected()) return; // the next connect schedules a pass
            client.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL)
                    .inBackground((c, event) -> created(event.getResultCode(), event.getStat())).forPath(path, data);
        } catch (Exception e) {
            failed(e);
        }
    }

    /**
     * The create's answer, on the client's event thread: nothing here may block. The owner is read
     * from the created znode, not remembered from before the call: after an expiry Curator may send
     * the create on a newer session than the one it reported a moment earlier.
     */
    private void created(int rc, Stat stat) {
        if (rc == KeeperException.Code.OK.intValue()) {
            if (stat == null) {
                run(this::exists); // no stat to tell the owner: read it
                return;
            }
            long session = stat.getEphemeralOwner();
            boolean fresh = registered(session);
            watchSoon(session, fresh ? "created" : null);
        } else if (rc == KeeperException.Code.NODEEXISTS.intValue()) {
            run(this::exists);
        } else {
            failed(KeeperException.create(KeeperException.Code.get(rc), path));
        }
    }

    /** The znode is there already: whose is it? On the worker thread; this path is rare, so it may block. */
    private void exists() {
        try {
            Stat stat = new Stat();
            byte[] current = client.getData().storingStatIn(stat).usingWatcher(watcher).forPath(path);
            long owner = stat.getEphemeralOwner();
            long session = currentSession(); // read after the znode, so a newer session is not mistaken for a stranger
            if (owner == session) {
                if (!Arrays.equals(current, data)) client.setData().withVersion(stat.getVersion()).forPath(path, data);
                if (registered(session)) announce(session, "verified");
            } else if (owner != 0 && earlier.contains(owner)) {
                try {
                    client.transaction().forOperations(
                            client.transactionOp().delete().withVersion(stat.getVersion()).forPath(path),
                            client.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(path, data));
                } catch (KeeperException.NoAuthException notAllowed) {
                    // With the fleet's ACLs no device may delete a member, not even its own earlier one
                    // (docs/security.md): the servers remove it when that session times out; the watch set
                    // on it above brings the next pass then.
                    log.info("the member znode of this gateway's earlier session 0x{} stays until that session times out "
                            + "(deleting members is not this device's right); registering then, path={}", Long.toHexString(owner), path);
                    return;
                }
                if (registered(session)) {
                    announce(session, "taken over from this gateway's earlier session 0x" + Long.toHexString(owner)
                            + ", which the servers had not ended yet");
                }
                watchSoon(session, null);
            } else {
                conflict(owner);
            }
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException raced) {
            schedule(0); // the znode changed between two steps: look again
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            failed(e);
        }
    }

    private void failed(Exception e) {
        if (closed.get()) return;
        long delay = retryMs;
        log.warn("registration pass failed path={}, again in {}ms: {}", path, delay, e.toString());
        retryMs = Math.min(RETRY_MAX_MS, delay * 2);
        schedule(delay);
    }

    private void run(Runnable task) {
        try {
            worker.execute(task);
        } catch (RejectedExecutionException closing) {
            // closed meanwhile
        }
    }

    /**
     * Sets the watch that tells of the znode being deleted or changed by someone else, a random
     * moment within {@link #WATCH_SPREAD_MS} after the create, and then (for a new registration,
     * {@code how} not null) logs it and records the session: when a whole fleet registers at once
     * (after an ensemble restart), these reads and thread wake-ups then do not queue with the
     * creates. The read also checks the znode (owner and content), so a change in between is not
     * missed.
     */
    private void watchSoon(long session, String how) {
        try {
            worker.schedule(() -> {
                if (closed.get() || ownedBy != session) return;
                if (how != null) announce(session, how);
                try {
                    // The content too: a change made before this watch was set sends no event.
                    Stat stat = new Stat();
                    byte[] current = client.getData().storingStatIn(stat).usingWatcher(watcher).forPath(path);
                    if (stat.getEphemeralOwner() != session || !Arrays.equals(current, data)) schedule(0);
                } catch (KeeperException.NoNodeException gone) {
                    schedule(0); // deleted before the watch was set
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Exception e) {
                    schedule(retryMs); // a pass verifies the znode; its read sets the watch when the znode exists
                }
            }, java.util.concurrent.ThreadLocalRandom.current().nextLong(WATCH_SPREAD_MS + 1), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // closed meanwhile
        }
    }

    /** Marks the znode owned by {@code session}; true if that is new. Runs on the client's event thread too: no blocking. */
    private boolean registered(long session) {
        conflictWith = 0;
        retryMs = RETRY_MIN_MS;
        boolean fresh = ownedBy != session;
        ownedBy = session;
        firstRegistered.countDown();
        return fresh;
    }

    /** Logs a new registration and records its session for the next start. On the worker thread. */
    private void announce(long session, String how) {
        log.info("registered path={} session=0x{} ({})", path, Long.toHexString(session), how);
        saveSession(session);
    }

    private void conflict(long owner) {
        ownedBy = 0;
        if (conflictWith != owner) {
            conflictWith = owner;
            log.error("not registered: {} belongs to session 0x{}, which is not this agent's;"
                            + " is another agent running with device id {}? Waiting for that znode to go",
                    path, Long.toHexString(owner), path.substring(path.lastIndexOf('/') + 1));
        }
    }

    private void saveSession(long session) {
        if (sessionFile.isEmpty()) return;
        Path file = sessionFile.get();
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, "0x" + Long.toHexString(session) + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            log.warn("cannot record the session in {}; after a crash the next start waits for it to expire: {}", file, e.toString());
        }
    }

    private static Optional<Long> readSession(Path file) {
        try {
            String s = Files.readString(file, StandardCharsets.US_ASCII).strip();
            return Optional.of(Long.parseUnsignedLong(s.startsWith("0x") ? s.substring(2) : s, 16));
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | NumberFormatException e) {
            log.warn("ignoring {}: {}", file, e.toString());
            return Optional.empty();
        }
    }

    /** {@link #close(Duration)} waiting at most 2 s. */
    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }

    /**
     * Deletes the member znode now (not at session expiry), if this session owns it, waiting at
     * most {@code wait} for ZooKeeper: the delete is best effort, since closing the session removes
     * the znode too, or the servers do when the session times out. Without a connection it is left
     * alone. Idempotent.
     */
    public void close(Duration wait) {
        if (!closed.compareAndSet(false, true)) return;
        worker.shutdownNow();
        long owner = ownedBy;
        ownedBy = 0;
        try {
            worker.awaitTermination(Math.min(wait.toMillis(), 1000), TimeUnit.MILLISECONDS);
            dev.meerkat.coordination.Watches.removeAll(client, path);
            if (owner == 0 || !client.getZookeeperClient().isConnected() || owner != currentSession()) return;
            CountDownLatch done = new CountDownLatch(1);
            // Only the znode of this session: a delete whose version is that of the znode this session owns.
            client.checkExists().inBackground((c, event) -> {
                Stat stat = event.getStat();
                if (event.getResultCode() != KeeperException.Code.OK.intValue() || stat == null || stat.getEphemeralOwner() != owner) {
                    done.countDown();
                    return;
                }
                c.delete().withVersion(stat.getVersion()).inBackground((c2, deleted) -> {
                    int rc = deleted.getResultCode();
                    if (rc == KeeperException.Code.OK.intValue()) {
                        log.info("unregistered path={}", path);
                    } else if (rc == KeeperException.Code.NOAUTH.intValue()) {
                        // With the fleet's ACLs a device may not delete members (not even its own: ZooKeeper cannot
                        // tell them apart); closing the session removes it, at once.
                        log.info("unregistering when the session closes path={}", path);
                    }
                    done.countDown();
                }).forPath(path);
            }).forPath(path);
            if (!done.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("the member znode was not deleted within {} ms (ZooKeeper does not answer); it goes when the session ends, path={}",
                        wait.toMillis(), path);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("could not delete the member znode path={}; it goes when the session ends: {}", path, e.toString());
        }
    }
}
