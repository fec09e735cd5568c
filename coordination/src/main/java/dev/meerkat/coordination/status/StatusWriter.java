package dev.meerkat.coordination.status;

import java.util.Arrays;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/**
 * Writes {@code /fleets/F/devices/D/status} (SPEC §5), persistent, and only when its content
 * differs from what this writer last wrote.
 */
public final class StatusWriter {
    private final CuratorFramework client;
    private final String path;
    private byte[] last;

    public StatusWriter(CuratorFramework client, String path) {
        this.client = client;
        this.path = path;
    }

    /** Writes {@code json} unless it is what was written last; true when it wrote. */
    public synchronized boolean write(byte[] json) throws Exception {
        if (Arrays.equals(json, last)) return false;
        try {
            client.setData().forPath(path, json);
        } catch (KeeperException.NoNodeException e) {
            try {
                client.create().creatingParentContainersIfNeeded().forPath(path, json);
            } catch (KeeperException.NodeExistsException raced) {
                client.setData().forPath(path, json);
            }
        }
        last = json.clone();
        return true;
    }

    public String path() {
        return path;
    }
}
