package dev.meerkat.bench;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * The raw baseline of a leader that crashes: a process of its own whose plain ZooKeeper session
 * holds an ephemeral sequential znode (the least a leader election needs) until it is killed.
 * Arguments: connect string, parent path, session timeout in ms. Prints {@code holding PATH}.
 */
public final class RawEphemeralHolder {
    private RawEphemeralHolder() {}

    public static void main(String[] args) throws Exception {
        ZooKeeper zk = ZooKeeperBaseline.connect(args[0], Integer.parseInt(args[2]));
        String path = zk.create(args[1] + "/n-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
        System.out.println("holding " + path);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
