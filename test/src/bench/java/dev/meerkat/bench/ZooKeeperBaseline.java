package dev.meerkat.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * The raw ZooKeeper client, the baseline that Meerkat's coordination figures are divided by:
 * synchronous create/get/set latency from one session, and the time from a write to the
 * notification of each of N sessions watching the znode.
 */
final class ZooKeeperBaseline {
    private final String connect;

    ZooKeeperBaseline(String connect) {
        this.connect = connect;
    }

    static ZooKeeper connect(String connect) throws Exception {
        return connect(connect, 30_000);
    }

    static ZooKeeper connect(String connect, int sessionTimeoutMs) throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, sessionTimeoutMs, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) up.countDown();
        });
        if (!up.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("no session with " + connect);
        return zk;
    }

    /** create, get and set of {@code ops} znodes, one at a time, each timed. */
    Map<String, Object> crud(int ops) throws Exception {
        ZooKeeper zk = connect(connect);
        try {
            ensure(zk, "/bench");
            String base = "/bench/crud-" + System.nanoTime();
            zk.create(base, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            byte[] data = "{\"interval\":\"5s\",\"driver\":\"simulated\"}".getBytes(StandardCharsets.UTF_8);
            Stats create = new Stats(), get = new Stats(), set = new Stats();
            long t0 = System.nanoTime();
            for (int i = 0; i < ops; i++) {
                long s = System.nanoTime();
                zk.create(base + "/n" + i, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                create.add(System.nanoTime() - s);
            }
            for (int i = 0; i < ops; i++) {
                long s = System.nanoTime();
                zk.getData(base + "/n" + i, false, null);
                get.add(System.nanoTime() - s);
            }
            for (int i = 0; i < ops; i++) {
                long s = System.nanoTime();
                zk.setData(base + "/n" + i, data, -1);
                set.add(System.nanoTime() - s);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("create", create.summary());
            m.put("get", get.summary());
            m.put("set", set.summary());
            m.put("ops_per_s", Stats.round(3 * ops / seconds));
            return m;
        } finally {
            zk.close();
        }
    }

    /**
     * N sessions hold a persistent watch on one znode; a writer sets it {@code rounds} times; each
     * notification's latency is from just before the write to the watcher's callback.
     */
    Map<String, Object> watchFanOut(int sessions, int rounds) throws Exception {
        ZooKeeper writer = connect(connect);
        List<ZooKeeper> watchers = new ArrayList<>();
        try {
            ensure(writer, "/bench");
            String path = "/bench/watch-" + System.nanoTime();
            writer.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            Stats latency = new Stats();
            AtomicLong writeStart = new AtomicLong();
            CountDownLatch[] round = new CountDownLatch[1];
            long connectStart = System.nanoTime();
            for (int i = 0; i < sessions; i++) {
                ZooKeeper zk = connect(connect);
                watchers.add(zk);
                zk.addWatch(path, e -> {
                    if (e.getType() == Watcher.Event.EventType.NodeDataChanged) {
                        latency.add(System.nanoTime() - writeStart.get());
                        round[0].countDown();
                    }
                }, AddWatchMode.PERSISTENT);
            }
            double connectSeconds = (System.nanoTime() - connectStart) / 1e9;
            for (int r = 0; r < rounds; r++) {
                round[0] = new CountDownLatch(sessions);
                writeStart.set(System.nanoTime());
                writer.setData(path, Integer.toString(r).getBytes(StandardCharsets.UTF_8), -1);
                if (!round[0].await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("round " + r + ": " + round[0].getCount() + " of " + sessions + " not notified");
                }
                Thread.sleep(20);
            }
            Map<String, Object> m = new LinkedHashMap<>(latency.summary());
            m.put("sessions", sessions);
            m.put("rounds", rounds);
            m.put("connect_s", Stats.round(connectSeconds));
            return m;
        } finally {
            // Closing a session is a quorum write; a thousand one by one would take minutes.
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(32)) {
                for (ZooKeeper zk : watchers) pool.submit(() -> {
                    zk.close(1000);
                    return null;
                });
            }
            writer.close();
        }
    }

    static void ensure(ZooKeeper zk, String path) throws Exception {
        if (zk.exists(path, false) == null) {
            try {
                zk.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (org.apache.zookeeper.KeeperException.NodeExistsException e) {
                // another run made it
            }
        }
    }
}
