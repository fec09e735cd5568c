package dev.meerkat.coordination;

import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.Watcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes a closed component's watches while its session goes on. ZooKeeper keeps one watch per
 * session and path on the server; removing one watcher of a client only removes it in the client
 * (the server is merely asked whether a watch is there), so the server would keep it until the
 * znode changes or the session ends. Removing all of the client's watches of the path removes the
 * server's: for a path only that component watches.
 */
public final class Watches {
    private static final Logger log = LoggerFactory.getLogger(Watches.class);

    private Watches() {}

    /** Every watch of {@code client} on {@code path}, in the background; in the client at once when ZooKeeper does not answer. */
    public static void removeAll(CuratorFramework client, String path) {
        try {
            client.watchers().removeAll().ofType(Watcher.WatcherType.Any).locally().quietly().inBackground().forPath(path);
        } catch (Exception e) {
            log.debug("watches of {} not removed: {}", path, e.toString());
        }
    }
}
