package dev.meerkat.coordination.registration;

import dev.meerkat.config.Json;
import java.io.Closeable;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's ephemeral member znode (SPEC §5). Curator's {@link PersistentNode} keeps it there:
 * it creates it again under a new session after an expiry, and deletes it on {@link #close()}.
 */
public final class Registration implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Registration.class);

    private final CuratorFramework client;
    private final String path;
    private final PersistentNode node;

    public Registration(CuratorFramework client, String path, MemberInfo info) {
        this.client = client;
        this.path = path;
        this.node = new PersistentNode(client, CreateMode.EPHEMERAL, false, path, Json.write(info));
    }

    public void start() {
        node.start();
        log.info("registration started path={}", path);
    }

    /** Waits for the first create; false when it did not happen in time (it goes on trying). */
    public boolean awaitRegistered(Duration timeout) throws InterruptedException {
        return node.waitForInitialCreate(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Registered means: the znode exists and its owner is this client's current session, not a
     * previous one whose znode has not gone yet.
     */
    public boolean isRegistered() {
        try {
            Stat stat = client.checkExists().forPath(path);
            return stat != null && stat.getEphemeralOwner() == client.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    public String path() {
        return path;
    }

    /** Deletes the member znode now (not at session expiry). Idempotent. */
    @Override
    public void close() {
        try {
            node.close();
        } catch (Exception e) {
            log.warn("could not delete the member znode path={}; it goes when the session ends: {}", path, e.toString());
        }
    }
}
