package dev.meerkat.coordination.election;

import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;

/**
 * The leader's writes, each one fenced: a ZooKeeper transaction that checks the leadership token
 * (the leader's latch znode, see {@link Election}) and makes the write, so a write of a deposed
 * leader is refused by ZooKeeper itself, however late it arrives. Updates are versioned as well:
 * a write based on a read that is no longer current is refused too.
 */
public final class FencedWrites {
    /** The write was refused because the term it was made in is over. */
    public static final class NotLeaderException extends Exception {
        NotLeaderException(Leadership l) {
            super("no longer the leader (epoch " + l.epoch() + " ended); the write was refused");
        }
    }

    private final CuratorFramework client;

    public FencedWrites(CuratorFramework client) {
        this.client = client;
    }

    /** Sets {@code path}'s data if its version is still {@code version}; returns the new version. */
    public int set(Leadership l, String path, byte[] data, int version) throws Exception {
        return commit(l, client.transactionOp().setData().withVersion(version).forPath(path, data)).get(1).getResultStat().getVersion();
    }

    /** Creates {@code path} (its parent must exist) with the client's ACL provider's ACL. */
    public void create(Leadership l, String path, byte[] data) throws Exception {
        commit(l, client.transactionOp().create().forPath(path, data));
    }

    /** Reads with the version to pass to {@link #set}; null data if the znode does not exist. */
    public Read read(String path) throws Exception {
        Stat stat = new Stat();
        try {
            byte[] data = client.getData().storingStatIn(stat).forPath(path);
            return new Read(data, stat.getVersion());
        } catch (KeeperException.NoNodeException e) {
            return new Read(null, -1);
        }
    }

    public record Read(byte[] data, int version) {
        public boolean exists() {
            return data != null;
        }
    }

    private List<CuratorTransactionResult> commit(Leadership l, CuratorOp write) throws Exception {
        try {
            return client.transaction().forOperations(client.transactionOp().check().forPath(l.token()), write);
        } catch (KeeperException e) {
            List<OpResult> results = e.getResults();
            if (results != null && !results.isEmpty() && results.get(0) instanceof OpResult.ErrorResult err
                    && err.getErr() != KeeperException.Code.OK.intValue()
                    && err.getErr() != KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()) {
                throw new NotLeaderException(l);
            }
            throw e;
        }
    }
}
