package dev.meerkat.coordination;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.coordination.security.ZooKeeperSecurity;
import java.io.IOException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.zookeeper.data.Id;

/** Builds the Curator client from the bootstrap config's {@code zookeeper} section. */
public final class ZooKeeperClients {
    private ZooKeeperClients() {}

    /**
     * A client for operator commands and tools, not namespaced (see {@link FleetPaths}); not
     * started. With {@code zookeeper.tls} it speaks TLS; with {@code zookeeper.auth} it presents
     * its credentials. The znodes it creates get ZooKeeper's default ACL unless the caller says.
     */
    public static CuratorFramework create(BootstrapConfig.ZooKeeper zk) throws IOException {
        return create(zk, ZooKeeperSecurity.of(zk));
    }

    /** The same, with the security already read from {@code zk}. */
    public static CuratorFramework create(BootstrapConfig.ZooKeeper zk, ZooKeeperSecurity security) {
        return builder(zk, security).build();
    }

    /**
     * The agent's client for device {@code paths.device()}: as {@link #create}, and the znodes it
     * creates get the ACLs of the fleet's model ({@link DeviceAcls}) when it has an identity.
     */
    public static CuratorFramework forDevice(BootstrapConfig.ZooKeeper zk, FleetPaths paths, ZooKeeperSecurity security) {
        CuratorFrameworkFactory.Builder b = builder(zk, security);
        if (!security.hasIdentity()) return b.build();
        Id device = security.deviceId(paths.fleet(), paths.device())
                .orElseThrow(() -> new IllegalArgumentException("zookeeper: neither a client certificate nor a digest line "
                        + dev.meerkat.coordination.security.FleetAcls.deviceUser(paths.fleet(), paths.device())
                        + " says who this device is"));
        Id fleet = security.fleetId(paths.fleet())
                .orElseThrow(() -> new IllegalArgumentException("zookeeper.auth.credentialsFile: no line for the fleet's user "
                        + dev.meerkat.coordination.security.FleetAcls.fleetUser(paths.fleet())
                        + " (meerkat provision writes it)"));
        DeviceAcls acls = new DeviceAcls(paths, device, fleet);
        CuratorFramework client = b.aclProvider(acls).build();
        acls.bind(() -> {
            try {
                return client.getZookeeperClient().getZooKeeper();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        return client;
    }

    private static CuratorFrameworkFactory.Builder builder(BootstrapConfig.ZooKeeper zk, ZooKeeperSecurity security) {
        int sessionMs = Math.toIntExact(zk.sessionTimeout().toMillis());
        CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder()
                .connectString(zk.connect())
                .sessionTimeoutMs(sessionMs)
                .connectionTimeoutMs(Math.min(sessionMs, 15_000))
                // Operations retry through short outages; the agent's own loops cover longer ones.
                .retryPolicy(new BoundedExponentialBackoffRetry(200, 5_000, 10))
                // Keep the connect string the operator wrote, not the one the ensemble advertises.
                .ensembleTracker(false);
        b.zkClientConfig(security.clientConfig().orElseGet(PlainClientConfig::new));
        if (!security.auth().isEmpty()) b.authorization(security.auth());
        return b;
    }
}
