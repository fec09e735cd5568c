package dev.meerkat.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * The raw baseline of config fan-out: N plain ZooKeeper sessions, each with a persistent recursive
 * watch on one subtree, that on a change are notified and then read the changed znode (the least an
 * agent must do, since notifications carry no data).
 */
final class RawWatchers implements AutoCloseable {
    final Stats notified = new Stats(), read = new Stats();
    private final List<ZooKeeper> sessions = new ArrayList<>();
    private final AtomicLong start = new AtomicLong();
    private volatile CountDownLatch done = new CountDownLatch(0);
    private volatile Stats roundNotified = new Stats();
    /** Whether this round's times go into {@link #notified} and {@link #read} (not in a warm-up). */
    private volatile boolean counted = true;

    RawWatchers(String connect, String subtree, int n) throws Exception {
        try {
            for (int i = 0; i < n; i++) {
                ZooKeeper z = ZooKeeperBaseline.connect(connect);
                sessions.add(z);
                z.addWatch(subtree, e -> {
                    if (e.getType() == Watcher.Event.EventType.NodeDataChanged) {
                        long t = System.nanoTime() - start.get();
                        if (counted) notified.add(t);
                        roundNotified.add(t);
                        z.getData(e.getPath(), false, (rc, path, ctx, data, stat) -> {
                            if (counted) read.add(System.nanoTime() - start.get());
                            done.countDown();
                        }, null);
                    }
                }, AddWatchMode.PERSISTENT_RECURSIVE);
            }
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    /**
     * One round: {@code operator} sets {@code path} (in the watched subtree); returns once every
     * session has read it, with this round's p99 notification time in µs. A round not
     * {@code counted} warms up: its times are left out of the totals.
     */
    double round(ZooKeeper operator, String path, byte[] data, boolean counted) throws Exception {
        this.counted = counted;
        Stats thisRound = new Stats();
        roundNotified = thisRound;
        done = new CountDownLatch(sessions.size());
        start.set(System.nanoTime());
        operator.setData(path, data, -1);
        if (!done.await(2, TimeUnit.MINUTES)) {
            throw new IllegalStateException("raw round incomplete: " + done.getCount() + " of " + sessions.size() + " sessions not notified");
        }
        return thisRound.percentileMicros(99);
    }

    @Override
    public void close() {
        try (ExecutorService pool = Executors.newFixedThreadPool(32)) {
            for (ZooKeeper z : sessions) pool.submit(() -> {
                z.close(1000);
                return null;
            });
        }
    }
}
