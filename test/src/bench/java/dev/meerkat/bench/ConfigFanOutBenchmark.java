package dev.meerkat.bench;

import dev.meerkat.agent.Agent;
import dev.meerkat.agent.status.StatusReport;
import dev.meerkat.agent.status.StatusReporter;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigDocument;
import dev.meerkat.config.ConfigLayers;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.coordination.configwatch.ConfigWatch;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.coordination.status.StatusWriter;
import dev.meerkat.drivers.Drivers;
import dev.meerkat.testing.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * Config fan-out: an operator writes one fleet document; the time until each of N agents has
 * applied it, and until each has written its status, beside the time until each of N raw
 * ZooKeeper sessions is notified of the same kind of write (and has read the changed document, the
 * least an agent must do), in the same run.
 *
 * <p>Each agent here is the agent's real config path: its own Curator session, the
 * {@link ConfigWatch} on both subtrees with the agent's debounce, {@link ConfigLayers} (parse,
 * validate, layer, digest) and the {@link StatusWriter}; not the sensors and MQTT link, so that a
 * thousand of them fit in one JVM on two cores.
 */
final class ConfigFanOutBenchmark {
    private final String connect;

    ConfigFanOutBenchmark(String connect) {
        this.connect = connect;
    }

    /** One agent's config path, with the times it applied and wrote each version. */
    private static final class FanAgent implements AutoCloseable {
        final CuratorFramework client;
        final ConfigWatch watch;
        Session session;
        final StatusReporter status;
        volatile EffectiveConfig running;
        final AtomicReference<Map<String, ConfigDocument>> inForce = new AtomicReference<>(Map.of());
        volatile int appliedVersion = -1;
        final Stats applied, written;
        final AtomicReference<long[]> round;
        final AtomicReference<Stats> roundApplied;

        FanAgent(String connect, String root, String device, Drivers drivers, Stats applied, Stats written,
                 AtomicReference<long[]> round, AtomicReference<Stats> roundApplied, CountDownLatch[] done) {
            this.applied = applied;
            this.roundApplied = roundApplied;
            this.written = written;
            this.round = round;
            BootstrapConfig.ZooKeeper zk = new BootstrapConfig.ZooKeeper(connect, root, Duration.ofSeconds(30), Optional.empty(), Optional.empty());
            FleetPaths paths = new FleetPaths(root, "fan", device);
            // As the agent builds it (without TLS or credentials here).
            client = ZooKeeperClients.forDevice(zk, paths, dev.meerkat.coordination.security.ZooKeeperSecurity.NONE);
            client.start();
            status = new StatusReporter(new StatusWriter(client, paths.status(), paths.members()),
                    () -> running == null ? null : new StatusReport(running, Instant.now(), List.of(), Map.of(), true, StatusReport.Delivery.NONE, "bench"),
                    report -> {
                        long[] r = round.get();
                        if (r != null && r[0] == running.fleetVersion()) {
                            if (r[2] == 1) written.add(System.nanoTime() - r[1]);
                            done[0].countDown();
                        }
                    });
            watch = new ConfigWatch(client, paths, Duration.ofMillis(Long.getLong("bench.debounceMs", Agent.DEBOUNCE.toMillis())), snap -> {
                var result = ConfigLayers.build(snap.fleet(), snap.device(), drivers, inForce.get());
                inForce.set(result.used());
                int v = (int) result.config().fleetVersion();
                if (v == appliedVersion) return;
                appliedVersion = v;
                long[] r = round.get();
                if (r != null && r[0] == v) {
                    long t = System.nanoTime() - r[1];
                    if (r[2] == 1) applied.add(t);
                    roundApplied.get().add(t);
                }
                running = result.config();
                status.update();
            });
            session = new Session(client, zk.sessionTimeout());
            watch.start(session);
        }

        @Override
        public void close() {
            watch.close();
            session.close();
            status.close();
            client.close();
        }
    }

    Map<String, Object> run(int n, int rounds) throws Exception {
        String root = "/bench-fan-" + n + "-" + System.nanoTime();
        String doc = root + "/fleets/fan/config/sensors/s1";
        ZooKeeper operator = ZooKeeperBaseline.connect(connect);
        Drivers drivers = Drivers.load();
        List<FanAgent> agents = new ArrayList<>();
        RawWatchers raw = null;
        Stats applied = new Stats(), written = new Stats();
        AtomicReference<long[]> round = new AtomicReference<>();
        AtomicReference<Stats> roundApplied = new AtomicReference<>(new Stats());
        CountDownLatch[] done = {new CountDownLatch(0)};
        try {
            createAll(operator, doc, sensor(0));
            createAll(operator, root + "/raw/fleets/fan/config/sensors/s1", sensor(0));
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                agents.add(new FanAgent(connect, root, "gw-" + i, drivers, applied, written, round, roundApplied, done));
            }
            Benchmarks.log(n + " agents started in " + Stats.round((System.nanoTime() - t0) / 1e9) + " s; waiting for their first apply");
            Await.until(Duration.ofMinutes(5), "first apply of " + n + " agents", () -> agents.stream().allMatch(a -> a.appliedVersion == 0));

            raw = new RawWatchers(connect, root + "/raw/fleets/fan/config", n);

            // Round 0 warms up and is not counted: in the runs of 2026-11-22 the first round after a
            // thousand sessions had connected was 5-10 times the later ones for raw and agents alike.
            for (int r = 0; r <= rounds; r++) {
                // Raw: the same kind of write, notifying N recursive watches.
                double rawP99 = raw.round(operator, root + "/raw/fleets/fan/config/sensors/s1", sensor(r), r > 0);
                Thread.sleep(100);

                // The agents.
                done[0] = new CountDownLatch(n);
                roundApplied.set(new Stats());
                // The version this write makes (the document was created at 0), when it started, and whether it counts.
                round.set(new long[] {r + 1, System.nanoTime(), r > 0 ? 1 : 0});
                operator.setData(doc, sensor(r), -1);
                if (!done[0].await(2, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("round " + r + ": " + done[0].getCount() + " of " + n + " agents did not apply");
                }
                Stats ra = roundApplied.get();
                Benchmarks.log("  round " + r + (r == 0 ? " (warm-up)" : "") + ": raw notified p99 " + Stats.round(rawP99 / 1000) + " ms; agents applied p50 "
                        + Stats.round(ra.percentileMicros(50) / 1000) + " / p99 " + Stats.round(ra.percentileMicros(99) / 1000)
                        + " / max " + Stats.round(ra.maxMicros() / 1000) + " ms");
                Thread.sleep(100);
            }
        } finally {
            try (ExecutorService pool = Executors.newFixedThreadPool(32)) {
                for (FanAgent a : agents) pool.submit(a::close);
            }
            if (raw != null) raw.close();
            operator.close();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agents", n);
        m.put("rounds", rounds);
        Stats rawNotified = raw.notified, rawRead = raw.read;
        m.put("raw_notified", rawNotified.summary());
        m.put("raw_notified_and_read", rawRead.summary());
        m.put("agent_applied", applied.summary());
        m.put("agent_status_written", written.summary());
        m.put("p99_ratio_applied_to_raw", Math.round(applied.percentileMicros(99) / rawNotified.percentileMicros(99) * 100) / 100.0);
        m.put("p50_ratio_applied_to_raw", Math.round(applied.percentileMicros(50) / rawNotified.percentileMicros(50) * 100) / 100.0);
        m.put("p99_ratio_applied_to_raw_read", Math.round(applied.percentileMicros(99) / rawRead.percentileMicros(99) * 100) / 100.0);
        return m;
    }

    private static byte[] sensor(int r) {
        return ("{\"driver\":\"simulated\",\"interval\":\"" + (1000 + r) + "ms\"}").getBytes(StandardCharsets.UTF_8);
    }

    static void createAll(ZooKeeper zk, String path, byte[] data) throws Exception {
        StringBuilder p = new StringBuilder();
        String[] parts = path.substring(1).split("/");
        for (int i = 0; i < parts.length; i++) {
            p.append('/').append(parts[i]);
            try {
                zk.create(p.toString(), i == parts.length - 1 ? data : new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (org.apache.zookeeper.KeeperException.NodeExistsException e) {
                // made already
            }
        }
    }
}
