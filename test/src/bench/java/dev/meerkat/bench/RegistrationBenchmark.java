package dev.meerkat.bench;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.coordination.registration.MemberInfo;
import dev.meerkat.coordination.registration.Registration;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.coordination.testing.SessionExpiry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * Registration of N agents: from the moment they all start registering (sessions already open) to
 * the moment every member znode is there, beside N raw ZooKeeper sessions creating an ephemeral
 * znode each, all at once, in the same run. Then forced session expiries: from the servers closing
 * an agent's session (its member znode deleted) to that agent registered again under a new session.
 */
final class RegistrationBenchmark {
    private static final MemberInfo INFO = new MemberInfo("gw", "reg", "0.1.0", "0.1.0", "bench-host",
            List.of("10.0.0.1"), "2026-11-21T00:00:00Z", List.of("i2c-1", "gpio"));

    private final String connect;

    RegistrationBenchmark(String connect) {
        this.connect = connect;
    }

    Map<String, Object> run(int n, int rounds, int expiries) throws Exception {
        String root = "/bench-reg-" + n + "-" + System.nanoTime();
        byte[] data = dev.meerkat.config.Json.write(INFO);
        ZooKeeper observer = ZooKeeperBaseline.connect(connect);
        List<ZooKeeper> raw = new ArrayList<>();
        List<CuratorFramework> clients = new ArrayList<>();
        List<Session> sessions = new ArrayList<>();
        List<Registration> registrations = new ArrayList<>();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agents", n);
        try {
            ZooKeeperBaseline.ensure(observer, root);

            // N raw sessions and N agents' clients and sessions, all connected before anything is timed.
            for (int i = 0; i < n; i++) raw.add(ZooKeeperBaseline.connect(connect));
            BootstrapConfig.ZooKeeper zk = new BootstrapConfig.ZooKeeper(connect, root, Duration.ofSeconds(30), Optional.empty(), Optional.empty());
            for (int i = 0; i < n; i++) {
                CuratorFramework c = ZooKeeperClients.create(zk);
                c.start();
                clients.add(c);
            }
            for (CuratorFramework c : clients) {
                if (!c.blockUntilConnected(60, TimeUnit.SECONDS)) throw new IllegalStateException("agent session did not connect");
                sessions.add(new Session(c, zk.sessionTimeout()));
            }

            // Rounds, raw and agents in turn, so that both meet the same machine (noise, JIT, server state).
            List<Double> rawMs = new ArrayList<>(), agentMs = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                // Raw: N ephemeral creates at once, asynchronous, as fast as the client allows.
                String rawDir = root + "/raw-" + round;
                ZooKeeperBaseline.ensure(observer, rawDir);
                CountDownLatch created = new CountDownLatch(n);
                AtomicInteger failed = new AtomicInteger();
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    raw.get(i).create(rawDir + "/gw-" + i, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, (rc, p, ctx, name) -> {
                        if (rc != 0) failed.incrementAndGet();
                        created.countDown();
                    }, null);
                }
                if (!created.await(5, TimeUnit.MINUTES)) throw new IllegalStateException("raw creates incomplete");
                rawMs.add((System.nanoTime() - t0) / 1e6);
                if (failed.get() > 0 || children(observer, rawDir) != n) {
                    throw new IllegalStateException("raw round " + round + ": " + failed.get() + " creates failed, " + children(observer, rawDir) + " of " + n + " visible");
                }
                for (int i = 0; i < n; i++) raw.get(i).delete(rawDir + "/gw-" + i, -1, (rc, p, ctx) -> {}, null);
                Thread.sleep(500);

                // Meerkat: N registrations started at once, until every one is registered.
                if (!registrations.isEmpty()) {
                    for (Registration r : registrations) r.close();
                    registrations.clear();
                    Thread.sleep(500);
                }
                String members = root + "/fleets/reg-" + round + "/members";
                // As in a running fleet, the members znode is there (the raw creates' parent is too).
                ZooKeeperBaseline.ensure(observer, root + "/fleets");
                ZooKeeperBaseline.ensure(observer, root + "/fleets/reg-" + round);
                ZooKeeperBaseline.ensure(observer, members);
                for (int i = 0; i < n; i++) registrations.add(new Registration(clients.get(i), members + "/gw-" + i, INFO, Optional.empty()));
                long t1 = System.nanoTime();
                for (int i = 0; i < n; i++) registrations.get(i).start(sessions.get(i));
                for (Registration r : registrations) {
                    if (!r.awaitRegistered(Duration.ofMinutes(5))) throw new IllegalStateException("registration incomplete");
                }
                agentMs.add((System.nanoTime() - t1) / 1e6);
                int visible = children(observer, members);
                if (visible != n) throw new IllegalStateException("only " + visible + " of " + n + " member znodes visible");
                Thread.sleep(1000); // the registrations' watches are set within 500 ms
            }
            m.put("rounds", rounds);
            m.put("raw_all_created_ms", rawMs.stream().map(Stats::round).toList());
            m.put("agents_all_registered_ms", agentMs.stream().map(Stats::round).toList());
            double rawMedian = Stats.median(rawMs), agentMedian = Stats.median(agentMs);
            m.put("raw_median_ms", Stats.round(rawMedian));
            m.put("agents_median_ms", Stats.round(agentMedian));
            m.put("ratio_to_raw", Math.round(agentMedian / rawMedian * 100) / 100.0);

            // Forced expiries: the servers close the session (a twin connection closes it), the
            // member znode goes at once; the time until the agent's new session owns it again.
            Stats again = new Stats();
            int k = Math.min(expiries, n);
            try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                List<Future<?>> all = new ArrayList<>();
                for (int i = 0; i < k; i++) {
                    CuratorFramework c = clients.get(i);
                    Registration r = registrations.get(i);
                    all.add(pool.submit(() -> {
                        long old = r.ownedBy();
                        SessionExpiry.expire(c, connect);
                        long start = System.nanoTime();
                        long deadline = start + TimeUnit.SECONDS.toNanos(60);
                        while (r.ownedBy() == 0 || r.ownedBy() == old) {
                            if (System.nanoTime() > deadline) throw new IllegalStateException("not registered again in 60 s");
                            Thread.sleep(1);
                        }
                        again.add(System.nanoTime() - start);
                        return null;
                    }));
                }
                for (Future<?> f : all) f.get();
            }
            m.put("expiries", k);
            m.put("expiry_to_registered", again.summary());
        } finally {
            try (ExecutorService pool = Executors.newFixedThreadPool(32)) {
                for (Registration r : registrations) pool.submit(() -> r.close());
            }
            try (ExecutorService pool = Executors.newFixedThreadPool(32)) {
                for (Session s : sessions) s.close();
                for (CuratorFramework c : clients) pool.submit(c::close);
                for (ZooKeeper z : raw) pool.submit(() -> {
                    z.close(1000);
                    return null;
                });
            }
            observer.close();
        }
        return m;
    }

    /** The children count as the leader has it: a sync first, since the observer's server may lag the writers'. */
    private static int children(ZooKeeper zk, String path) throws Exception {
        CountDownLatch synced = new CountDownLatch(1);
        zk.sync(path, (rc, p, ctx) -> synced.countDown(), null);
        if (!synced.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("sync timed out");
        return zk.getChildren(path, false).size();
    }
}
