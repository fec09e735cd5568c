package dev.meerkat.coordination.configwatch;

import dev.meerkat.config.ConfigDocument;
import dev.meerkat.config.ConfigLayer;
import dev.meerkat.coordination.FleetPaths;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/** Reads a config layer (SPEC §3): {@code CONFIG/agent} and every {@code CONFIG/sensors/S}. */
public final class ConfigReader {
    private final CuratorFramework client;

    public ConfigReader(CuratorFramework client) {
        this.client = client;
    }

    public ConfigLayer read(String configRoot) throws Exception {
        Optional<ConfigDocument> agent = document(FleetPaths.agentDoc(configRoot));
        TreeMap<String, ConfigDocument> sensors = new TreeMap<>();
        String dir = FleetPaths.sensorsDir(configRoot);
        List<String> children;
        try {
            children = client.getChildren().forPath(dir);
        } catch (KeeperException.NoNodeException e) {
            children = List.of();
        }
        for (String id : children) {
            // A sensor deleted between the listing and the read is simply not there.
            document(dir + "/" + id).ifPresent(d -> sensors.put(id, d));
        }
        return new ConfigLayer(agent, sensors);
    }

    private Optional<ConfigDocument> document(String path) throws Exception {
        Stat stat = new Stat();
        try {
            byte[] data = client.getData().storingStatIn(stat).forPath(path);
            return Optional.of(new ConfigDocument(path, data, stat.getVersion()));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
    }
}
