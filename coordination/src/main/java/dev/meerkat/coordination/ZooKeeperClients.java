package dev.meerkat.coordination;

import dev.meerkat.config.BootstrapConfig;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;

/** Builds the Curator client from the bootstrap config's {@code zookeeper} section. */
public final class ZooKeeperClients {
    private ZooKeeperClients() {}

    /** A client for the agent, not namespaced (see {@link FleetPaths}); not started. */
    public static CuratorFramework create(BootstrapConfig.ZooKeeper zk) {
        if (zk.tls().isPresent() || zk.auth().isPresent()) {
            // Refuse rather than connect in plain text to an ensemble the operator meant to secure.
            throw new UnsupportedOperationException(
                    "zookeeper.tls and zookeeper.auth are not supported by this version of Meerkat yet; remove them to connect without");
        }
        int sessionMs = Math.toIntExact(zk.sessionTimeout().toMillis());
        return CuratorFrameworkFactory.builder()
                .connectString(zk.connect())
                .sessionTimeoutMs(sessionMs)
                .connectionTimeoutMs(Math.min(sessionMs, 15_000))
                // Operations retry through short outages; the agent's own loops cover longer ones.
                .retryPolicy(new BoundedExponentialBackoffRetry(200, 5_000, 10))
                // Keep the connect string the operator wrote, not the one the ensemble advertises.
                .ensembleTracker(false)
                .build();
    }
}
