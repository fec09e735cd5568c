package dev.meerkat.bench;

import dev.meerkat.agent.Agent;
import dev.meerkat.agent.status.StatusReport;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.testing.SessionExpiry;
import dev.meerkat.drivers.Drivers;
import dev.meerkat.test.fixtures.AccessLog;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.LockContender;
import dev.meerkat.test.fixtures.MosquittoBroker;
import dev.meerkat.test.fixtures.ProcessEnsemble;
import dev.meerkat.testing.Await;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * A fleet on one machine: N whole agents ({@link Agent}, each with its own ZooKeeper session, MQTT
 * connection, journal, admin socket and a simulated sensor) in this JVM, one more agent as a real
 * process started through the distribution's launcher (the first leader, so that its crash is a
 * real {@code kill -9}), lock contenders on one shared device, and a durable subscriber that
 * accounts for every reading. It measures registration, config fan-out, leader handover (clean and
 * crash), and the readings the fleet delivers, each beside a raw-client baseline from the same run;
 * then injects faults one after another (a ZooKeeper follower killed, the leader killed, the whole
 * ensemble restarted, the broker restarted, a burst of session expiries) and times the recovery of
 * each. At the end it checks that nothing was lost: every reading's {@code seq} arrived, nothing
 * was dropped, every member is registered, and no two lock holds overlapped. A failed check fails
 * the run.
 */
final class FleetBenchmark {
    /**
     * @param agents     in-process agents
     * @param fanOutRounds config writes timed, for the agents and for the raw sessions
     * @param expiries   agents whose sessions are ended at once in the burst
     * @param outage     how long the broker and the ensemble stay down
     * @param steady     the window over which delivered readings are counted
     */
    record Settings(int agents, int fanOutRounds, int expiries, Duration outage, Duration steady) {}

    /**
     * Agents, raw sessions and the external leader ask for this session timeout: the most the
     * servers allow with their tick of 500 ms. Shorter ones expire when a thousand agents start
     * at once on two cores.
     */
    static final Duration SESSION = Duration.ofSeconds(10);
    /** Agents started at a time. */
    private static final int STARTERS = 4;
    private static final Duration INTERVAL = Duration.ofSeconds(1);
    private static final byte[] AGENT_DOC = "{\"logLevel\":\"warn\"}".getBytes(StandardCharsets.UTF_8);
    private static final AtomicInteger RUNS = new AtomicInteger();

    private final ProcessEnsemble ensemble;
    private final MosquittoBroker broker;
    private final Path dir;
    private final List<String> failures = new ArrayList<>();

    FleetBenchmark(ProcessEnsemble ensemble, MosquittoBroker broker, Path dir) {
        this.ensemble = ensemble;
        this.broker = broker;
        this.dir = dir;
    }

    /**
     * About 15 threads an agent and 2 a raw session: the kernel's limits on processes (threads count)
     * and memory mappings (two a thread stack) must leave room, or the run fails half-way.
     */
    static void checkLimits(int agents) throws java.io.IOException {
        long threads = agents * 17L + 2000;
        List<String> low = new ArrayList<>();
        for (String[] k : new String[][] {{"kernel/pid_max", "1"}, {"kernel/threads-max", "1"}, {"vm/max_map_count", "2"}}) {
            Path f = Path.of("/proc/sys/" + k[0]);
            if (!Files.exists(f)) continue;
            // Files.readString trusts the size /proc reports (0) and reads a byte; read lines instead.
            long have = Long.parseLong(Files.readAllLines(f).get(0).trim()), need = threads * Long.parseLong(k[1]);
            if (have < need) low.add(k[0].replace('/', '.') + "=" + need + " (now " + have + ")");
        }
        if (!low.isEmpty()) {
            throw new IllegalStateException("a fleet of " + agents + " agents needs about " + threads + " threads, more than this machine's limits allow: "
                    + "sudo sysctl " + String.join(" ", low));
        }
    }

    Map<String, Object> run(Settings s) throws Exception {
        checkLimits(s.agents());
        int run = RUNS.incrementAndGet();
        String fleet = "fleet" + run;
        String root = "/fleetbench-" + System.nanoTime();
        String connect = ensemble.connectString();
        Path work = Files.createDirectories(dir.resolve("fleet-" + run + "-" + System.nanoTime() % 100000));
        FleetPaths fp = new FleetPaths(root, fleet, "-");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agents", s.agents());
        List<Agent> all = new CopyOnWriteArrayList<>(), running = new CopyOnWriteArrayList<>();
        List<LockContender> contenders = new ArrayList<>();
        AgentProcess external = null;
        ZooKeeper operator = ZooKeeperBaseline.connect(connect);
        SeqRecorder rec = new SeqRecorder(broker.uri(), "meerkat/" + fleet + "/+/sensors/#");
        failures.clear();
        try {
            ConfigFanOutBenchmark.createAll(operator, fp.fleetConfig() + "/agent", AGENT_DOC);
            ConfigFanOutBenchmark.createAll(operator, fp.fleetConfig() + "/sensors/s1", sensor(0));
            ConfigFanOutBenchmark.createAll(operator, fp.members(), new byte[0]);

            // Registration, raw: N plain sessions connect and create an ephemeral znode each, STARTERS at a time.
            Benchmarks.log("fleet: raw registration of " + s.agents() + " sessions ...");
            double rawRegMs = rawRegistration(connect, root + "/raw-members", s.agents(), operator);

            // The first leader: a real agent process, so that its crash is a kill -9.
            external = startExternal(work, connect, root, fleet);
            Await.until(Duration.ofSeconds(60), "the external agent registered", () -> exists(operator, new FleetPaths(root, fleet, "gw-ext").member()));
            Await.until(Duration.ofSeconds(30), "the external agent in the election", () -> children(operator, fp.election()) >= 1);

            // Registration, agents: N whole agents start, STARTERS at a time, until every member znode is there.
            Benchmarks.log("fleet: starting " + s.agents() + " agents ...");
            int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            long heapBefore = usedHeap();
            AtomicReference<long[]> round = new AtomicReference<>();
            Stats applied = new Stats();
            CountDownLatch[] appliedAll = {new CountDownLatch(0)};
            long t0 = System.nanoTime();
            AtomicLong allRegisteredAt = new AtomicLong();
            Thread watcher = Thread.ofPlatform().daemon().start(() -> {
                while (allRegisteredAt.get() == 0) {
                    try {
                        if (children(operator, fp.members()) >= s.agents() + 1) allRegisteredAt.set(System.nanoTime());
                        else Thread.sleep(5);
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            Drivers drivers = Drivers.load();
            try (ExecutorService pool = Executors.newFixedThreadPool(STARTERS)) {
                List<Future<?>> started = new ArrayList<>();
                for (int i = 0; i < s.agents(); i++) {
                    int n = i;
                    started.add(pool.submit(() -> {
                        Agent a = new Agent(boot(work, connect, root, fleet, "gw-" + n), drivers, Clock.systemUTC());
                        AtomicLong lastRound = new AtomicLong(-1);
                        a.onApplied(c -> {
                            long[] r = round.get();
                            var s1 = c.sensors().get("s1");
                            if (r != null && s1 != null && s1.interval().toMillis() == 1000 + r[0] && lastRound.getAndSet(r[0]) != r[0]) {
                                applied.add(System.nanoTime() - r[1]);
                                appliedAll[0].countDown();
                            }
                        });
                        all.add(a);
                        a.start();
                        running.add(a);
                        return null;
                    }));
                }
                for (Future<?> f : started) f.get(10, TimeUnit.MINUTES);
            }
            double startedMs = (System.nanoTime() - t0) / 1e6;
            watcher.join(Duration.ofMinutes(2).toMillis());
            if (allRegisteredAt.get() == 0) throw new IllegalStateException("not every agent registered: " + children(operator, fp.members()));
            double agentRegMs = (allRegisteredAt.get() - t0) / 1e6;
            int threadsPerAgent = (ManagementFactory.getThreadMXBean().getThreadCount() - threadsBefore) / s.agents();
            long heapPerAgent = (usedHeap() - heapBefore) / s.agents();
            Map<String, Object> reg = new LinkedHashMap<>();
            reg.put("raw_all_created_ms", Stats.round(rawRegMs));
            reg.put("agents_all_registered_ms", Stats.round(agentRegMs));
            reg.put("agents_all_started_ms", Stats.round(startedMs));
            reg.put("ratio_to_raw", ratio(agentRegMs, rawRegMs));
            reg.put("threads_per_agent", threadsPerAgent);
            reg.put("heap_per_agent_kib", heapPerAgent / 1024);
            m.put("registration", reg);
            Benchmarks.log("fleet: registration " + reg);

            // Readings through the fleet's bridges: a steady window.
            Thread.sleep(3000);
            long r0 = rec.received.get();
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime(), w0 = System.nanoTime();
            rec.timing = true;
            Thread.sleep(s.steady().toMillis());
            rec.timing = false;
            double cores = (os.getProcessCpuTime() - cpu0) / (double) (System.nanoTime() - w0);
            Map<String, Object> readings = new LinkedHashMap<>();
            readings.put("sensors", s.agents() + 1); // the external agent's too
            readings.put("interval_ms", INTERVAL.toMillis());
            readings.put("delivered_per_s", Stats.round((rec.received.get() - r0) / (s.steady().toMillis() / 1000.0)));
            readings.put("expected_per_s", Stats.round((s.agents() + 1) * 1000.0 / INTERVAL.toMillis()));
            readings.put("sample_to_subscriber", rec.latency.summaryMillis());
            // What the agents cost at rest (this JVM holds them, the subscriber and little else).
            readings.put("jvm_cpu_cores", Math.round(cores * 100) / 100.0);
            readings.put("cpu_percent_of_a_core_per_agent", Math.round(cores * 100 / s.agents() * 1000) / 1000.0);
            m.put("readings", readings);
            Benchmarks.log("fleet: readings " + readings);

            // Config fan-out: the agents' apply beside N raw recursive watches (notified, then read).
            Benchmarks.log("fleet: config fan-out, " + s.fanOutRounds() + " rounds ...");
            ConfigFanOutBenchmark.createAll(operator, root + "/raw/config/sensors/s1", sensor(0));
            try (RawWatchers raw = new RawWatchers(connect, root + "/raw/config", s.agents())) {
                for (int r = 1; r <= s.fanOutRounds(); r++) {
                    raw.round(operator, root + "/raw/config/sensors/s1", sensor(r), true);
                    Thread.sleep(200);
                    appliedAll[0] = new CountDownLatch(running.size());
                    round.set(new long[] {r, System.nanoTime()});
                    operator.setData(fp.fleetConfig() + "/sensors/s1", sensor(r), -1);
                    if (!appliedAll[0].await(2, TimeUnit.MINUTES)) {
                        throw new IllegalStateException("fan-out round " + r + ": " + appliedAll[0].getCount() + " agents did not apply");
                    }
                    Thread.sleep(200);
                }
                Map<String, Object> fan = new LinkedHashMap<>();
                fan.put("rounds", s.fanOutRounds());
                fan.put("raw_notified", raw.notified.summaryMillis());
                fan.put("raw_notified_and_read", raw.read.summaryMillis());
                fan.put("agents_applied", applied.summaryMillis());
                fan.put("p99_ratio_to_raw_notified", ratio(applied.percentileMicros(99), raw.notified.percentileMicros(99)));
                fan.put("p99_ratio_to_raw_read", ratio(applied.percentileMicros(99), raw.read.percentileMicros(99)));
                m.put("config_fan_out", fan);
                Benchmarks.log("fleet: fan-out " + fan);
            }
            round.set(null);

            // Leader handover: the external agent crashes (kill -9); then the next leader stops cleanly.
            Benchmarks.log("fleet: leader handover ...");
            Map<String, Object> handover = new LinkedHashMap<>();
            if (running.stream().anyMatch(Agent::leading)) {
                failures.add("an in-process agent led before the external agent crashed: the crash handover was not measured");
            } else {
                long k0 = System.nanoTime();
                external.signal("KILL");
                Agent next = awaitLeader(running, null);
                handover.put("crash_ms", Stats.round((System.nanoTime() - k0) / 1e6));
                external.waitFor(Duration.ofSeconds(10));
                external = null;
                Benchmarks.log("fleet: crash handover to " + next.deviceId() + " in " + handover.get("crash_ms") + " ms");
            }
            // Clean stops: three leaders in turn (one sample is noise on a shared machine), and three raw ones between them.
            List<Double> clean = new ArrayList<>(), rawClean = new ArrayList<>();
            for (int i = 0; i < Math.min(3, running.size() - 1); i++) {
                Agent leader = awaitLeader(running, null);
                long c0 = System.nanoTime();
                Thread closing = Thread.ofPlatform().start(leader::close);
                awaitLeader(running, leader);
                clean.add((System.nanoTime() - c0) / 1e6);
                closing.join();
                running.remove(leader);
                rawClean.add(rawHandover(connect, root + "/raw-election", operator, work, false));
            }
            handover.put("clean_stops", clean.stream().map(Stats::round).toList());
            handover.put("raw_clean_stops", rawClean.stream().map(Stats::round).toList());
            handover.put("clean_ms", Stats.round(Stats.median(clean)));
            handover.put("raw_clean_ms", Stats.round(Stats.median(rawClean)));
            handover.put("raw_crash_ms", Stats.round(rawHandover(connect, root + "/raw-election", operator, work, true)));
            handover.put("session_timeout_ms", SESSION.toMillis());
            if (handover.containsKey("crash_ms")) {
                handover.put("crash_ratio_to_raw", ratio((double) handover.get("crash_ms"), (double) handover.get("raw_crash_ms")));
            }
            handover.put("clean_ratio_to_raw", ratio((double) handover.get("clean_ms"), (double) handover.get("raw_clean_ms")));
            m.put("leader_handover", handover);
            Benchmarks.log("fleet: handover " + handover);

            // Faults, with lock contenders on one shared device throughout.
            Path accessLog = work.resolve("device-access.log");
            String lock = "fleet" + run + "-shared";
            for (int i = 0; i < 3; i++) contenders.add(new LockContender(connect, SESSION, lock, accessLog, "holder-" + i));
            Map<String, Object> faults = new LinkedHashMap<>();
            int expected = running.size();
            faults.put("zookeeper_follower_killed", zooKeeperFault(running, operator, fp, expected, s, "follower"));
            faults.put("zookeeper_leader_killed", zooKeeperFault(running, operator, fp, expected, s, "leader"));
            faults.put("zookeeper_ensemble_restarted", zooKeeperFault(running, operator, fp, expected, s, "ensemble"));
            faults.put("broker_restarted", brokerRestart(running, s));
            faults.put("session_expiry_burst", expiryBurst(running, contenders, operator, root, fleet, connect, s));
            m.put("faults", faults);

            // Nothing lost: the sensor goes (a live reconfiguration), the journals drain, and every seq is accounted for.
            Benchmarks.log("fleet: checking that nothing was lost ...");
            Thread.sleep(2000);
            long holds = 0;
            for (LockContender c : contenders) {
                holds += c.holds.get();
                c.close();
            }
            contenders.clear();
            List<String> overlaps = AccessLog.violations(AccessLog.windows(accessLog));
            operator.delete(fp.fleetConfig() + "/sensors/s1", -1);
            Await.until(Duration.ofMinutes(2), "every agent stopped its sensor", () -> running.stream().allMatch(a -> a.sensors().isEmpty()));
            Await.until(Duration.ofMinutes(2), "every journal drained", () -> running.stream().allMatch(a -> a.delivery().buffered() == 0));
            m.put("checks", lossCheck(all, rec, operator, fp, running, holds, overlaps));
        } finally {
            for (LockContender c : contenders) c.close();
            if (external != null) external.close();
            try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
                for (Agent a : all) pool.submit(a::close);
            }
            rec.close();
            operator.close();
        }
        m.put("failures", List.copyOf(failures));
        return m;
    }

    private static byte[] sensor(int r) {
        return ("{\"driver\":\"simulated\",\"interval\":\"" + (1000 + r) + "ms\"}").getBytes(StandardCharsets.UTF_8);
    }

    private BootstrapConfig boot(Path work, String connect, String root, String fleet, String id) {
        Path d = work.resolve(id);
        return new BootstrapConfig(new BootstrapConfig.Device(id, fleet),
                new BootstrapConfig.ZooKeeper(connect, root, SESSION, Optional.empty(), Optional.empty()),
                new BootstrapConfig.Mqtt(URI.create(broker.uri()), fleet + "-" + id, Optional.empty(), Optional.empty(), Optional.empty()),
                d, d.resolve("admin.sock"));
    }

    private AgentProcess startExternal(Path work, String connect, String root, String fleet) throws Exception {
        Path d = Files.createDirectories(work.resolve("gw-ext"));
        Path yaml = d.resolve("agent.yaml");
        Files.writeString(yaml, String.join("\n",
                "device: { id: gw-ext, fleet: " + fleet + " }",
                "zookeeper: { connect: \"" + connect + "\", root: " + root + ", sessionTimeout: " + SESSION.toMillis() + "ms }",
                "mqtt: { uri: \"" + broker.uri() + "\", clientId: " + fleet + "-gw-ext }",
                "storage: { dir: " + d.resolve("state") + " }",
                "admin: { socket: " + d.resolve("admin.sock") + " }", ""));
        return AgentProcess.start(d.resolve("agent.log"), "run", "--config", yaml.toString());
    }

    private static double rawRegistration(String connect, String parent, int n, ZooKeeper operator) throws Exception {
        ConfigFanOutBenchmark.createAll(operator, parent, new byte[0]);
        List<ZooKeeper> sessions = new CopyOnWriteArrayList<>();
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(STARTERS)) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                done.add(pool.submit(() -> {
                    ZooKeeper z = ZooKeeperBaseline.connect(connect, (int) SESSION.toMillis());
                    sessions.add(z);
                    z.create(parent + "/gw-" + k, "{}".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                    return null;
                }));
            }
            for (Future<?> f : done) f.get(10, TimeUnit.MINUTES);
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            for (ZooKeeper z : sessions) pool.submit(() -> {
                z.close(1000);
                return null;
            });
        }
        return ms;
    }

    /**
     * The raw baseline of a handover: a plain session (in a process of its own, for a crash) holds an
     * ephemeral sequential znode; another watches it, and on its deletion lists the children to see
     * it is now the lowest. The time from the stop (or the kill) to that.
     */
    private static double rawHandover(String connect, String parent, ZooKeeper operator, Path work, boolean crash) throws Exception {
        ConfigFanOutBenchmark.createAll(operator, parent, new byte[0]);
        ZooKeeper next = ZooKeeperBaseline.connect(connect, (int) SESSION.toMillis());
        ZooKeeper holder = null;
        AgentProcess holderProcess = null;
        try {
            String held;
            if (crash) {
                Path log = work.resolve("raw-holder.log");
                holderProcess = AgentProcess.java(log, RawEphemeralHolder.class.getName(), connect, parent, Long.toString(SESSION.toMillis()));
                AgentProcess p = holderProcess;
                Await.until(Duration.ofSeconds(30), "the raw holder's znode", () -> p.log().contains("holding "));
                held = p.log().lines().filter(l -> l.startsWith("holding ")).findFirst().orElseThrow().substring("holding ".length()).trim();
            } else {
                holder = ZooKeeperBaseline.connect(connect, (int) SESSION.toMillis());
                held = holder.create(parent + "/n-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
            }
            String mine = next.create(parent + "/n-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
            CountDownLatch leads = new CountDownLatch(1);
            String myName = mine.substring(parent.length() + 1);
            next.exists(held, e -> {
                try {
                    List<String> c = next.getChildren(parent, false);
                    if (c.stream().sorted().findFirst().orElse("").equals(myName)) leads.countDown();
                } catch (Exception ex) {
                    // counted as not leading: the await below fails
                }
            });
            long t0 = System.nanoTime();
            // A clean stop deletes the znode (as Curator's latch does when it closes); a crash leaves it to the session's end.
            if (crash) holderProcess.signal("KILL");
            else holder.delete(held, -1);
            if (!leads.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("raw handover did not happen");
            double ms = (System.nanoTime() - t0) / 1e6;
            next.delete(mine, -1);
            return ms;
        } finally {
            next.close();
            if (holder != null) holder.close();
            if (holderProcess != null) holderProcess.close();
        }
    }

    /** Polls every millisecond until an agent other than {@code not} leads. */
    private static Agent awaitLeader(List<Agent> agents, Agent not) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < end) {
            for (Agent a : agents) if (a != not && a.leading()) return a;
            Thread.sleep(1);
        }
        throw new IllegalStateException("no agent took the lead within 60 s");
    }

    /**
     * A ZooKeeper fault: a follower or the leader killed (kill -9) and, once the agents have
     * recovered, restarted; or the whole ensemble killed and restarted after the outage. Recovery
     * runs from the kill until every agent is connected again and every member znode is there.
     */
    private Map<String, Object> zooKeeperFault(List<Agent> agents, ZooKeeper operator, FleetPaths fp, int expected,
                                               Settings s, String kind) throws Exception {
        Benchmarks.log("fleet: fault, ZooKeeper " + kind + " ...");
        Map<String, Object> r = new LinkedHashMap<>();
        int leader = ensemble.leader();
        List<Integer> killed = switch (kind) {
            case "follower" -> List.of((leader + 1) % ensemble.size());
            case "leader" -> List.of(leader);
            default -> List.of(0, 1, 2);
        };
        long t0 = System.nanoTime();
        for (int i : killed) ensemble.kill(i);
        if (kind.equals("ensemble")) {
            Thread.sleep(s.outage().toMillis());
            ensemble.restartAll();
            r.put("servers_serving_ms", Stats.round((System.nanoTime() - t0) / 1e6));
        }
        int maxDisconnected = 0;
        long seenDisconnected = 0;
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (true) {
            int disconnected = (int) agents.stream().filter(a -> !a.zooKeeperConnected()).count();
            maxDisconnected = Math.max(maxDisconnected, disconnected);
            if (disconnected > 0 && seenDisconnected == 0) seenDisconnected = System.nanoTime();
            boolean noticed = maxDisconnected > 0 || System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(3);
            if (noticed && disconnected == 0 && members(operator, fp) == expected) break;
            if (System.nanoTime() > end) {
                failures.add(kind + ": " + disconnected + " agents still disconnected, " + members(operator, fp) + " of " + expected + " members after 3 min");
                break;
            }
            Thread.sleep(10);
        }
        r.put("killed", killed.stream().map(i -> "zk" + i).toList());
        r.put("agents_disconnected", maxDisconnected);
        r.put("recovered_ms", Stats.round((System.nanoTime() - t0) / 1e6));
        r.put("members", members(operator, fp));
        if (!kind.equals("ensemble")) {
            for (int i : killed) ensemble.restart(i);
        }
        Benchmarks.log("fleet: " + kind + " " + r);
        return r;
    }

    /** The broker stopped for the outage and started again: recovered when every agent is connected and has sent its backlog. */
    private Map<String, Object> brokerRestart(List<Agent> agents, Settings s) throws Exception {
        Benchmarks.log("fleet: fault, broker restart ...");
        long t0 = System.nanoTime();
        broker.stop();
        Thread.sleep(s.outage().toMillis());
        long peak = agents.stream().mapToLong(a -> a.delivery().buffered()).sum();
        broker.start();
        long back = System.nanoTime();
        boolean[] recovered = new boolean[agents.size()];
        int left = agents.size();
        long end = back + TimeUnit.MINUTES.toNanos(3);
        while (left > 0 && System.nanoTime() < end) {
            for (int i = 0; i < recovered.length; i++) {
                Agent a = agents.get(i);
                if (!recovered[i] && a.mqttConnected() && a.delivery().buffered() == 0) {
                    recovered[i] = true;
                    left--;
                }
            }
            Thread.sleep(10);
        }
        if (left > 0) failures.add("broker restart: " + left + " agents had not sent their backlog after 3 min");
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("outage_ms", Stats.round((back - t0) / 1e6));
        r.put("buffered_during_outage", peak);
        r.put("drained_after_broker_back_ms", Stats.round((System.nanoTime() - back) / 1e6));
        Benchmarks.log("fleet: broker " + r);
        return r;
    }

    /**
     * K agents' sessions (and the lock contenders') are ended at once, as after a partition: each
     * agent is recovered when its member znode is owned by its new session.
     */
    private Map<String, Object> expiryBurst(List<Agent> agents, List<LockContender> contenders, ZooKeeper operator,
                                            String root, String fleet, String connect, Settings s) throws Exception {
        int k = Math.min(s.expiries(), agents.size());
        Benchmarks.log("fleet: fault, " + k + " sessions expired at once ...");
        List<Agent> victims = agents.subList(0, k);
        long[] old = new long[k];
        for (int i = 0; i < k; i++) old[i] = victims.get(i).zooKeeperClient().getZookeeperClient().getZooKeeper().getSessionId();
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.min(64, k + contenders.size()))) {
            List<Future<?>> done = new ArrayList<>();
            for (Agent a : victims) done.add(pool.submit(() -> {
                SessionExpiry.expire(a.zooKeeperClient(), connect);
                return null;
            }));
            for (LockContender c : contenders) done.add(pool.submit(() -> {
                SessionExpiry.expire(c.client(), connect);
                return null;
            }));
            for (Future<?> f : done) f.get(2, TimeUnit.MINUTES);
        }
        double expiredMs = (System.nanoTime() - t0) / 1e6;
        Stats again = new Stats();
        boolean[] back = new boolean[k];
        int left = k;
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (left > 0 && System.nanoTime() < end) {
            for (int i = 0; i < k; i++) {
                if (back[i]) continue;
                Agent a = victims.get(i);
                long now = a.zooKeeperClient().getZookeeperClient().getZooKeeper().getSessionId();
                Stat st = operator.exists(new FleetPaths(root, fleet, a.deviceId()).member(), false);
                if (st != null && now != old[i] && st.getEphemeralOwner() == now && a.zooKeeperConnected()) {
                    again.add(System.nanoTime() - t0);
                    back[i] = true;
                    left--;
                }
            }
            Thread.sleep(10);
        }
        if (left > 0) failures.add("session expiry burst: " + left + " of " + k + " agents not registered again after 3 min");
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("sessions_expired", k + contenders.size());
        r.put("expire_calls_ms", Stats.round(expiredMs));
        r.put("registered_again", again.summaryMillis());
        r.put("recovered_ms", Stats.round(again.maxMicros() / 1000));
        Benchmarks.log("fleet: expiries " + r);
        return r;
    }

    /** The checks: every seq of every agent arrived, nothing dropped, every member there, no overlapping holds. */
    private Map<String, Object> lossCheck(List<Agent> all, SeqRecorder rec, ZooKeeper operator, FleetPaths fp, List<Agent> running,
                                          long holds, List<String> overlaps) throws Exception {
        long enqueued = 0, dropped = 0;
        int streamsWithGaps = 0;
        // One wait of at most a minute for the stragglers of all streams together (not a minute for
        // each stream short of readings: with many, a failed check would take hours to say so).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline
                && all.stream().anyMatch(a -> rec.distinct(a.deviceId() + "/s1") < a.delivery().enqueued())) {
            Thread.sleep(200);
        }
        for (Agent a : all) {
            StatusReport.Delivery d = a.delivery();
            enqueued += d.enqueued();
            long drops = d.dropped().values().stream().flatMap(x -> x.values().stream()).mapToLong(Long::longValue).sum();
            dropped += drops;
            String stream = a.deviceId() + "/s1";
            List<Integer> missing = rec.missing(stream, 1, d.enqueued());
            if (!missing.isEmpty()) {
                streamsWithGaps++;
                if (streamsWithGaps <= 5) failures.add(stream + ": " + d.enqueued() + " readings sent, missing seqs " + missing);
            }
            if (drops > 0) failures.add(stream + ": " + drops + " readings dropped " + d.dropped());
        }
        int members = members(operator, fp);
        if (members != running.size()) failures.add(members + " members registered, " + running.size() + " agents running");
        failures.addAll(overlaps.stream().limit(5).toList());
        if (holds == 0) failures.add("the lock contenders took no hold");
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("readings_sent", enqueued);
        c.put("readings_received", rec.received.get());
        c.put("duplicates", rec.duplicates.get());
        c.put("unreadable_messages", rec.unreadable.get());
        c.put("streams_with_gaps", streamsWithGaps);
        c.put("dropped", dropped);
        c.put("members", members);
        c.put("lock_holds", holds);
        c.put("overlapping_holds", overlaps.size());
        return c;
    }

    private static int members(ZooKeeper zk, FleetPaths fp) {
        return children(zk, fp.members());
    }

    /** Unchecked, for {@link Await#until}: a failure there is retried until the deadline. */
    private static int children(ZooKeeper zk, String path) {
        try {
            return zk.getChildren(path, false).size();
        } catch (KeeperException.NoNodeException e) {
            return 0;
        } catch (KeeperException.ConnectionLossException e) {
            return -1;
        } catch (KeeperException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean exists(ZooKeeper zk, String path) {
        try {
            return zk.exists(path, false) != null;
        } catch (KeeperException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long usedHeap() {
        System.gc();
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    static double ratio(double a, double b) {
        return Math.round(a / b * 100) / 100.0;
    }

}
