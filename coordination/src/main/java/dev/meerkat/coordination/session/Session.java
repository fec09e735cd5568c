package dev.meerkat.coordination.session;

import java.io.Closeable;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where the agent learns what happened to its ZooKeeper session, and tells its parts
 * (registration, config watch, later locks and leadership) in the same terms:
 *
 * <ul>
 *   <li>{@link Listener#suspended()}: the connection is gone, the session may still be valid. Stop
 *       anything that needs certainty (acting under a lock, writing as leader); keep sampling and
 *       buffering.
 *   <li>{@link Listener#lost()}: the session is gone (expired at the servers, or given up on by
 *       Curator after the session timeout). Every ephemeral znode of it is gone or going.
 *   <li>{@link Listener#connected(long, boolean)}: connected, under the same session or a new one:
 *       register again, verify ownership, re-establish what the session held.
 * </ul>
 *
 * <p>Listeners run on Curator's connection-state thread, in order; they must not block (hand work to
 * a thread of their own).
 */
public final class Session implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    /** A part of the agent that depends on the session. Every method has a default that does nothing. */
    public interface Listener {
        default void suspended() {}

        default void lost() {}

        /** Connected under {@code sessionId}; {@code newSession} when it is not the session it had before. */
        default void connected(long sessionId, boolean newSession) {}

        /** A listener that runs {@code r} on every change: suspended, lost or connected. */
        static Listener onEveryChange(Runnable r) {
            return new Listener() {
                @Override
                public void suspended() {
                    r.run();
                }

                @Override
                public void lost() {
                    r.run();
                }

                @Override
                public void connected(long sessionId, boolean newSession) {
                    r.run();
                }
            };
        }
    }

    private final CuratorFramework client;
    private final Duration requested;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ConnectionStateListener curatorListener = this::stateChanged;
    private volatile long sessionId;
    private volatile boolean connected;
    private volatile int negotiatedMs = -1;

    /** Listens to {@code client} from now on; {@code requested} is the session timeout the bootstrap config asked for. */
    public Session(CuratorFramework client, Duration requested) {
        this.client = client;
        this.requested = requested;
        client.getConnectionStateListenable().addListener(curatorListener);
        // Curator does not replay a connect that happened before the listener was added.
        if (client.getZookeeperClient().isConnected()) stateChanged(client, ConnectionState.CONNECTED);
    }

    public void listen(Listener listener) {
        listeners.add(listener);
        // A listener added after the first connect learns of it now.
        long id = sessionId;
        if (connected && id != 0) listener.connected(id, false);
    }

    public void unlisten(Listener listener) {
        listeners.remove(listener);
    }

    /** The session id as of the last connect; 0 before the first. */
    public long id() {
        return sessionId;
    }

    /** Connected now (not suspended, not lost). */
    public boolean connected() {
        return connected;
    }

    /** The session timeout the servers granted, or -1 before the first connect. */
    public int negotiatedTimeoutMs() {
        return negotiatedMs;
    }

    private void stateChanged(CuratorFramework c, ConnectionState state) {
        switch (state) {
            case CONNECTED, RECONNECTED -> {
                long id;
                int timeout;
                try {
                    ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
                    id = zk.getSessionId();
                    timeout = zk.getSessionTimeout();
                } catch (Exception e) {
                    log.warn("connected, but the session cannot be read: {}", e.toString());
                    return;
                }
                long before = sessionId;
                boolean fresh = before != id;
                sessionId = id;
                connected = true;
                if (timeout != negotiatedMs) {
                    negotiatedMs = timeout;
                    if (timeout != requested.toMillis()) {
                        log.warn("the ensemble granted a session timeout of {}ms, not the {}ms asked for"
                                        + " (servers clamp it to between 2 and 20 ticks); the gateway is declared gone {}ms after it goes silent",
                                timeout, requested.toMillis(), timeout);
                    }
                }
                log.info("zookeeper {} session=0x{}{}", state == ConnectionState.CONNECTED ? "connected" : "reconnected",
                        Long.toHexString(id), fresh && before != 0 ? " (a new session; the previous was 0x" + Long.toHexString(before) + ")" : "");
                for (Listener l : listeners) call(l, () -> l.connected(id, fresh));
            }
            case SUSPENDED -> {
                connected = false;
                if (sessionId == 0) {
                    log.warn("zookeeper not reached yet: no session was ever established; trying on");
                } else log.warn("zookeeper connection suspended session=0x{}; acting under locks and leadership stops until it is back",
                        Long.toHexString(sessionId));
                for (Listener l : listeners) call(l, l::suspended);
            }
            case LOST -> {
                connected = false;
                log.warn("zookeeper session lost session=0x{}; its ephemeral znodes are gone; registering again when connected",
                        Long.toHexString(sessionId));
                for (Listener l : listeners) call(l, l::lost);
            }
            case READ_ONLY -> {
                connected = false;
                log.warn("zookeeper connection is read-only (server out of quorum)");
                for (Listener l : listeners) call(l, l::suspended);
            }
        }
    }

    private static void call(Listener l, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.error("a session listener failed: {}", e.toString(), e);
        }
    }

    @Override
    public void close() {
        client.getConnectionStateListenable().removeListener(curatorListener);
        listeners.clear();
    }
}
