package dev.meerkat.agent.cli;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigDocument;
import dev.meerkat.config.ConfigError;
import dev.meerkat.config.ConfigException;
import dev.meerkat.config.ConfigLayer;
import dev.meerkat.config.ConfigLayers;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.Drivers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code meerkat config push}: validates a document exactly as the agents will, then writes its
 * znode with a version check, so that a change somebody else made in between is never overwritten.
 */
@Command(name = "push", mixinStandardHelpOptions = true,
        description = {"Validate a config document, then write its znode (operator).",
                "The write is refused, with exit code 1, when the znode changed after the version it expects:",
                "the version read just before writing, or --expect-version N (the version you looked at; -1: it must not exist yet)."})
final class ConfigPush implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "Bootstrap config; only its zookeeper section is used (default: ${DEFAULT-VALUE}).")
    Path config = BootstrapConfig.DEFAULT_PATH;

    @Option(names = "--fleet", required = true, paramLabel = "F")
    String fleet;

    @Option(names = "--device", paramLabel = "D", description = "Write the device layer of D instead of the fleet layer.")
    String device;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--sensor", paramLabel = "S", description = "The document of sensor S.")
        String sensor;

        @Option(names = "--agent", description = "The agent settings document.")
        boolean agent;
    }

    @Option(names = "--expect-version", paramLabel = "N", description = "Write only if the znode is at version N (-1: does not exist).")
    Integer expectVersion;

    @Parameters(paramLabel = "FILE", description = "The JSON document.")
    Path file;

    @Override
    public Integer call() throws Exception {
        for (String name : device == null ? List.of(fleet) : List.of(fleet, device)) {
            if (!BootstrapConfig.NAME.matcher(name).matches()) return usage("\"" + name + "\" is not a valid fleet or device name");
        }
        if (target.sensor != null && !SensorConfig.ID.matcher(target.sensor).matches()) {
            return usage("\"" + target.sensor + "\" is not a valid sensor id (letters, digits, '.', '_' or '-', at most 63)");
        }
        BootstrapConfig.ZooKeeper zkConfig;
        try {
            zkConfig = BootstrapConfig.loadZooKeeper(config);
        } catch (ConfigException e) {
            System.err.println("meerkat config push: " + e.getMessage());
            return Main.FAILED;
        }
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            System.err.println("meerkat config push: cannot read " + file + ": " + e.getMessage());
            return Main.FAILED;
        }
        String layerRoot = device == null ? "/fleets/" + fleet + "/config" : "/fleets/" + fleet + "/devices/" + device + "/config";
        String znode = layerRoot + (target.agent ? "/agent" : "/sensors/" + target.sensor);
        String path = zkConfig.root() + znode;

        Optional<CuratorFramework> connected = Bootstrap.connect(zkConfig, "meerkat config push");
        if (connected.isEmpty()) return Main.UNREACHABLE;
        try (CuratorFramework zk = connected.get()) {
            List<ConfigError> errors = validate(zk, zkConfig.root(), znode, data);
            if (!errors.isEmpty()) {
                System.err.println("meerkat config push: " + file + " is rejected, nothing written:");
                for (ConfigError e : errors) System.err.println("  " + e.path() + ": " + e.message());
                return Main.FAILED;
            }
            Stat stat = zk.checkExists().forPath(path);
            int current = stat == null ? -1 : stat.getVersion();
            if (expectVersion != null && expectVersion != current) {
                return conflict(znode, current);
            }
            try {
                Stat written;
                if (stat == null) {
                    // A new document, and any parent made for it, get the ACL of the nearest znode above
                    // that exists: with the fleets provisioned, the fleet's or the device's config ACL.
                    zk.create().creatingParentsIfNeeded().withACL(inheritedAcl(zk, path), true).forPath(path, data);
                    written = zk.checkExists().forPath(path);
                } else {
                    written = zk.setData().withVersion(current).forPath(path, data);
                }
                System.out.println("written " + znode + " version " + (written == null ? 0 : written.getVersion()));
                return Main.OK;
            } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
                Stat now = zk.checkExists().forPath(path);
                return conflict(znode, now == null ? -1 : now.getVersion());
            }
        }
    }

    /** The ACL of the nearest existing znode above {@code path}: what a new document (and its parents) gets. */
    static List<org.apache.zookeeper.data.ACL> inheritedAcl(CuratorFramework zk, String path) throws Exception {
        String p = path;
        while (p.lastIndexOf('/') > 0) {
            p = p.substring(0, p.lastIndexOf('/'));
            if (zk.checkExists().forPath(p) != null) return zk.getACL().forPath(p);
        }
        return org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE;
    }

    /** Checks the document as an agent of the fleet would see it: a device override over the fleet's document. */
    private List<ConfigError> validate(CuratorFramework zk, String root, String znode, byte[] data) throws Exception {
        ConfigDocument doc = new ConfigDocument(znode, data, 0);
        ConfigLayer fleetLayer, deviceLayer = ConfigLayer.empty();
        if (device == null) {
            fleetLayer = target.agent ? ConfigLayer.of(Optional.of(doc), Map.of()) : ConfigLayer.of(Optional.empty(), Map.of(target.sensor, doc));
        } else {
            fleetLayer = ConfigLayer.empty();
            if (!target.agent) {
                String fleetDoc = "/fleets/" + fleet + "/config/sensors/" + target.sensor;
                try {
                    byte[] base = zk.getData().forPath(root + fleetDoc);
                    fleetLayer = ConfigLayer.of(Optional.empty(), Map.of(target.sensor, new ConfigDocument(fleetDoc, base, 0)));
                } catch (KeeperException.NoNodeException e) {
                    // a sensor of this device only: the document must stand alone
                }
            }
            deviceLayer = target.agent ? ConfigLayer.of(Optional.of(doc), Map.of()) : ConfigLayer.of(Optional.empty(), Map.of(target.sensor, doc));
        }
        return ConfigLayers.build(fleetLayer, deviceLayer, Drivers.load()).errors().stream()
                .filter(e -> e.source().equals(znode)).toList();
    }

    private int conflict(String znode, int current) {
        System.err.println("meerkat config push: " + znode + " is at version " + current
                + (expectVersion != null ? ", not " + expectVersion : "") + ": it changed since; nothing written."
                + " Look at it again, then push with --expect-version " + current + ".");
        return Main.FAILED;
    }

    private static int usage(String message) {
        System.err.println("meerkat config push: " + message);
        return Main.USAGE;
    }
}
