package dev.meerkat.coordination.status;

import java.util.Arrays;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * Writes {@code /fleets/F/devices/D/status} (SPEC §5), persistent, and only when its content
 * differs from what this writer last wrote.
 */
public final class StatusWriter {
    private final CuratorFramework client;
    private final String path, members;
    private byte[] last;

    /** {@code members}: the fleet's members znode, whose children are counted by {@link #fleetSize()}. */
    public StatusWriter(CuratorFramework client, String path, String members) {
        this.client = client;
        this.path = path;
        this.members = members;
    }

    /**
     * The fleet's registered members now, from the members znode's stat (one small read, no list of
     * names); 0 when it cannot be read.
     */
    public int fleetSize() throws Exception {
        Stat st = client.checkExists().forPath(members);
        return st == null ? 0 : st.getNumChildren();
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
