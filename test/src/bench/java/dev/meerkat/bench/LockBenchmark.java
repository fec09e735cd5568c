package dev.meerkat.bench;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.coordination.locks.HardwareLocks;
import dev.meerkat.coordination.locks.Hold;
import dev.meerkat.coordination.session.Session;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * The lock cycle on shared hardware: acquire, 1 ms of work, release. Uncontended, three ways in
 * turn, in the same run: the raw ZooKeeper client doing the recipe's minimum (create an ephemeral
 * sequential znode, list the children to see it is the lowest, delete it), Curator's
 * {@link InterProcessMutex} used plainly, and Meerkat's {@link HardwareLocks} (Curator's mutex, the
 * token from the create's stat, the lease, acquire and release on the lock's own thread). Then
 * contended: N agents, each its own session, taking one lock in a loop; holds per second.
 */
final class LockBenchmark {
    private final String connect;

    LockBenchmark(String connect) {
        this.connect = connect;
    }

    private static void work() throws InterruptedException {
        TimeUnit.MILLISECONDS.sleep(1);
    }

    Map<String, Object> uncontended(int cycles, int rounds) throws Exception {
        String root = "/bench-lock-" + System.nanoTime();
        BootstrapConfig.ZooKeeper cfg = new BootstrapConfig.ZooKeeper(connect, root, Duration.ofSeconds(30), Optional.empty(), Optional.empty());
        ZooKeeper raw = ZooKeeperBaseline.connect(connect);
        CuratorFramework plain = ZooKeeperClients.create(cfg);
        CuratorFramework agent = ZooKeeperClients.create(cfg);
        plain.start();
        agent.start();
        plain.blockUntilConnected(30, TimeUnit.SECONDS);
        agent.blockUntilConnected(30, TimeUnit.SECONDS);
        Session session = new Session(agent, cfg.sessionTimeout());
        HardwareLocks locks = new HardwareLocks(agent, session, root);
        InterProcessMutex mutex = new InterProcessMutex(plain, root + "/locks/plain");
        String rawDir = root + "/locks/raw";
        ZooKeeperBaseline.ensure(raw, root);
        ZooKeeperBaseline.ensure(raw, root + "/locks");
        ZooKeeperBaseline.ensure(raw, rawDir);
        Stats rawStats = new Stats(), plainStats = new Stats(), agentStats = new Stats();
        List<Double> rawMeans = new ArrayList<>(), plainMeans = new ArrayList<>(), agentMeans = new ArrayList<>();
        try {
            for (int round = -1; round < rounds; round++) { // round -1 warms up
                Stats r = new Stats(), p = new Stats(), a = new Stats();
                for (int i = 0; i < cycles; i++) {
                    long t0 = System.nanoTime();
                    String node = raw.create(rawDir + "/lock-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
                    List<String> children = raw.getChildren(rawDir, false);
                    if (!node.endsWith(Collections.min(children))) throw new IllegalStateException("not the lowest: " + node);
                    work();
                    raw.delete(node, -1);
                    r.add(System.nanoTime() - t0);
                }
                for (int i = 0; i < cycles; i++) {
                    long t0 = System.nanoTime();
                    mutex.acquire();
                    work();
                    mutex.release();
                    p.add(System.nanoTime() - t0);
                }
                for (int i = 0; i < cycles; i++) {
                    long t0 = System.nanoTime();
                    try (Hold h = locks.acquire("bench/agent", Duration.ofSeconds(10)).orElseThrow()) {
                        h.check();
                        work();
                    }
                    a.add(System.nanoTime() - t0);
                }
                if (round < 0) continue;
                rawMeans.add(r.meanMicros());
                plainMeans.add(p.meanMicros());
                agentMeans.add(a.meanMicros());
                for (Stats[] pair : new Stats[][] {{r, rawStats}, {p, plainStats}, {a, agentStats}}) pair[1].addAll(pair[0]);
            }
        } finally {
            locks.close();
            session.close();
            agent.close();
            plain.close();
            raw.close();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cycles_per_round", cycles);
        m.put("rounds", rounds);
        m.put("raw", rawStats.summary());
        m.put("curator_plain", plainStats.summary());
        m.put("meerkat", agentStats.summary());
        double rawMean = Stats.median(rawMeans), plainMean = Stats.median(plainMeans), agentMean = Stats.median(agentMeans);
        m.put("ratio_meerkat_to_raw", Math.round(agentMean / rawMean * 100) / 100.0);
        m.put("ratio_curator_to_raw", Math.round(plainMean / rawMean * 100) / 100.0);
        m.put("ratio_meerkat_to_curator", Math.round(agentMean / plainMean * 100) / 100.0);
        return m;
    }

    /** {@code agents} gateways, each its own session, taking one lock for {@code seconds}: holds per second, all together. */
    Map<String, Object> contended(int agents, int seconds) throws Exception {
        String root = "/bench-lockc-" + System.nanoTime();
        BootstrapConfig.ZooKeeper cfg = new BootstrapConfig.ZooKeeper(connect, root, Duration.ofSeconds(30), Optional.empty(), Optional.empty());
        List<CuratorFramework> clients = new ArrayList<>();
        List<Session> sessions = new ArrayList<>();
        List<HardwareLocks> all = new ArrayList<>();
        AtomicLong holds = new AtomicLong(), timeouts = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        try {
            for (int i = 0; i < agents; i++) {
                CuratorFramework c = ZooKeeperClients.create(cfg);
                c.start();
                c.blockUntilConnected(30, TimeUnit.SECONDS);
                Session s = new Session(c, cfg.sessionTimeout());
                clients.add(c);
                sessions.add(s);
                all.add(new HardwareLocks(c, s, root));
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            for (HardwareLocks l : all) {
                threads.add(Thread.ofPlatform().start(() -> {
                    while (System.nanoTime() < end) {
                        try {
                            Optional<Hold> h = l.acquire("bench/shared", Duration.ofSeconds(5));
                            if (h.isEmpty()) {
                                timeouts.incrementAndGet();
                                continue;
                            }
                            try (Hold hold = h.get()) {
                                hold.check();
                                work();
                            }
                            holds.incrementAndGet();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }));
            }
            for (Thread t : threads) t.join();
        } finally {
            for (HardwareLocks l : all) l.close();
            for (Session s : sessions) s.close();
            for (CuratorFramework c : clients) c.close();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agents", agents);
        m.put("seconds", seconds);
        m.put("holds", holds.get());
        m.put("holds_per_s", Math.round(holds.get() * 10.0 / seconds) / 10.0);
        m.put("waits_timed_out", timeouts.get());
        return m;
    }
}
