package dev.meerkat.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.agent.Agent;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Json;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.testing.FourLetterWords;
import dev.meerkat.drivers.Drivers;
import dev.meerkat.test.fixtures.MosquittoBroker;
import dev.meerkat.test.fixtures.ProcessEnsemble;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.ZooKeeper;

/**
 * What a fleet of agent-shaped sessions costs the ensemble (issue 27), before and after its
 * changes, in the same run: {@link ShapedAgents} in several client JVMs (one JVM runs out of file
 * descriptors and threads long before the servers do) against the 3 server JVMs.
 *
 * <ul>
 *   <li><b>At rest</b>: requests a second and watches per gateway, from the servers' {@code mntr}
 *       over a window.</li>
 *   <li><b>A fleet-wide change</b> (one write to a fleet sensor document): the ensemble's writes in
 *       the first second, in its busiest second and in all (from the zxid, sampled every 20 ms), the
 *       share of the agents that wrote their status within a second of applying the change, the
 *       time until every agent applied it and until every status znode was written.</li>
 *   <li><b>A leader kill</b> ({@code kill -9} of the ZooKeeper leader): the time until every
 *       session is connected again and the election is whole (one leader, every candidate back),
 *       the sessions that expired, and the bytes the surviving servers wrote meanwhile
 *       ({@code /proc/PID/io} {@code wchar}: their replies, the election's lists among them, and their
 *       transaction logs).</li>
 * </ul>
 */
final class FleetScaleBenchmark {
    private static final int THREADS_PER_SESSION = 10;
    private final ProcessEnsemble ensemble;
    private final Path work;

    FleetScaleBenchmark(ProcessEnsemble ensemble, Path out) throws Exception {
        this.ensemble = ensemble;
        this.work = Files.createDirectories(out.resolve("fleetscale"));
    }

    /** Both modes at {@code gateways}, {@code perJvm} agents to a client JVM, resting {@code rest} seconds. */
    Map<String, Object> run(int gateways, int perJvm, int rest) throws Exception {
        // Each agent-shaped session runs about 9 threads of its own (as an agent does), and every
        // thread takes a process id: the kernel's default pid_max (32768) holds about 3,000 of them.
        long pidMax = Long.parseLong(Files.readAllLines(Path.of("/proc/sys/kernel/pid_max")).get(0).trim()); // not readString: /proc files say they are empty
        if (pidMax < THREADS_PER_SESSION * gateways + 5000L) {
            throw new IllegalStateException("the fleetscale section at " + gateways + " sessions needs about " + THREADS_PER_SESSION * gateways
                    + " threads, and kernel.pid_max is " + pidMax + ": raise it (sysctl -w kernel.pid_max=4194304) or run fewer"
                    + " (-Dbench.fleetscale.gateways=" + (pidMax - 5000) / THREADS_PER_SESSION + ")");
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("gateways", gateways);
        r.put("client_jvms", (gateways + perJvm - 1) / perJvm);
        for (String mode : List.of("before", "after")) {
            Benchmarks.log("fleetscale " + mode + ", " + gateways + " agent-shaped sessions ...");
            r.put(mode, phase(mode, gateways, perJvm, rest));
            Benchmarks.log("fleetscale " + mode + ": " + r.get(mode));
        }
        @SuppressWarnings("unchecked") Map<String, Object> b = (Map<String, Object>) r.get("before"), a = (Map<String, Object>) r.get("after");
        r.put("first_second_writes_after_over_before", ratio(a.get("burst_writes_first_s"), b.get("burst_writes_first_s")));
        r.put("peak_second_writes_after_over_before", ratio(a.get("burst_writes_peak_s"), b.get("burst_writes_peak_s")));
        if (b.containsKey("kill_server_bytes")) {
            r.put("reconnect_server_bytes_after_over_before", ratio(a.get("kill_server_bytes"), b.get("kill_server_bytes")));
        }
        return r;
    }

    private static Object ratio(Object a, Object b) {
        double d = ((Number) b).doubleValue();
        return d == 0 ? null : Math.round(((Number) a).doubleValue() / d * 1000) / 1000.0;
    }

    /** The client JVMs of one phase and the commands to them. */
    private final class Clients implements AutoCloseable {
        final List<Process> jvms = new ArrayList<>();
        final List<PrintWriter> in = new ArrayList<>();
        final List<BufferedReader> out = new ArrayList<>();

        Clients(String root, String mode, int gateways, int perJvm) throws Exception {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            for (int first = 0; first < gateways; first += perJvm) {
                int count = Math.min(perJvm, gateways - first);
                Process p = new ProcessBuilder(java, "-Xss256k", "-Xmx" + Math.max(256, count) + "m", "-XX:+UseSerialGC",
                        "-cp", System.getProperty("java.class.path"), ShapedAgents.class.getName(),
                        ensemble.connectString(), root, "scale", Integer.toString(first), Integer.toString(count), mode)
                        .redirectError(ProcessBuilder.Redirect.appendTo(work.resolve(mode + "-clients.log").toFile())).start();
                jvms.add(p);
                in.add(new PrintWriter(p.getOutputStream(), true, StandardCharsets.UTF_8));
                out.add(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
            }
            for (BufferedReader o : out) {
                String line = o.readLine();
                if (line == null || !line.startsWith("started")) throw new IllegalStateException("a client JVM did not start: " + line
                        + " (" + work.resolve(mode + "-clients.log") + ")");
            }
        }

        /** Every JVM's report, merged: counts summed, times concatenated. */
        Map<String, Object> report(long t0, long version) throws Exception {
            long registered = 0, connected = 0, standing = 0, leading = 0, lost = 0, agents = 0, electionLists = 0, electionNames = 0;
            List<Long> applied = new ArrayList<>(), written = new ArrayList<>(), reconnected = new ArrayList<>(), writeDelay = new ArrayList<>();
            for (PrintWriter w : in) w.println("report " + t0 + " " + version);
            for (BufferedReader o : out) {
                String line = o.readLine();
                if (line == null) throw new IllegalStateException("a client JVM ended");
                JsonNode j = Json.tree(line.getBytes(StandardCharsets.UTF_8));
                agents += j.path("agents").asLong();
                registered += j.path("registered").asLong();
                connected += j.path("connected").asLong();
                standing += j.path("standing").asLong();
                leading += j.path("leading").asLong();
                lost += j.path("lost").asLong();
                electionLists += j.path("electionLists").asLong();
                electionNames += j.path("electionNames").asLong();
                j.path("applied").forEach(x -> applied.add(x.asLong()));
                j.path("written").forEach(x -> written.add(x.asLong()));
                j.path("reconnected").forEach(x -> reconnected.add(x.asLong()));
                j.path("writeDelay").forEach(x -> writeDelay.add(x.asLong()));
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("agents", agents);
            m.put("registered", registered);
            m.put("connected", connected);
            m.put("standing", standing);
            m.put("leading", leading);
            m.put("lost", lost);
            m.put("electionLists", electionLists);
            m.put("electionNames", electionNames);
            m.put("applied", applied);
            m.put("written", written);
            m.put("reconnected", reconnected);
            m.put("writeDelay", writeDelay);
            return m;
        }

        /** The sessions closed (their ephemerals go at once) for 30 s at most, then the JVMs killed. */
        @Override
        public void close() throws Exception {
            for (PrintWriter w : in) w.println("quit");
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (Process p : jvms) {
                if (!p.waitFor(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS)) p.destroyForcibly().waitFor();
            }
        }
    }

    private Map<String, Object> phase(String mode, int gateways, int perJvm, int rest) throws Exception {
        String root = "/fs-" + mode + "-" + System.nanoTime();
        String fleet = root + "/fleets/scale";
        String doc = fleet + "/config/sensors/s1";
        int candidates = mode.equals("before") ? gateways : Math.min(5, gateways);
        Map<String, Object> m = new LinkedHashMap<>();
        ZooKeeper operator = ZooKeeperBaseline.connect(ensemble.connectString());
        try {
            ConfigFanOutBenchmark.createAll(operator, doc, sensor(0));
            ConfigFanOutBenchmark.createAll(operator, fleet + "/members", new byte[0]);
            long t = System.nanoTime();
            try (Clients clients = new Clients(root, mode, gateways, perJvm)) {
                Map<String, Object> s = await(clients, 0, 0, Math.max(300, gateways / 10), rep -> n(rep, "registered") == gateways
                        && ((List<?>) rep.get("written")).size() == gateways && n(rep, "standing") == candidates && n(rep, "leading") == 1);
                m.put("start_s", Stats.round((System.nanoTime() - t) / 1e9));
                Benchmarks.log("  " + gateways + " registered, applied, written, " + s.get("standing") + " standing, in " + m.get("start_s") + " s");

                atRest(m, gateways, rest);

                // A fleet-wide change.
                List<long[]> zxids = new CopyOnWriteArrayList<>();
                Thread sampler = Thread.ofPlatform().daemon(true).start(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        zxids.add(new long[] {System.currentTimeMillis(), zxid()});
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                Thread.sleep(200);
                long t0 = System.currentTimeMillis();
                operator.setData(doc, sensor(1), -1);
                Map<String, Object> burst = await(clients, t0, 1, 300, rep -> ((List<?>) rep.get("written")).size() == gateways);
                Thread.sleep(200);
                sampler.interrupt();
                sampler.join();
                long z0 = zxids.stream().filter(x -> x[0] <= t0).mapToLong(x -> x[1]).max().orElseThrow();
                long z1 = zxids.stream().filter(x -> x[0] >= t0 + 1000).mapToLong(x -> x[1]).min().orElseThrow();
                long zEnd = zxids.get(zxids.size() - 1)[1];
                m.put("burst_writes_first_s", z1 - z0 - 1); // not the operator's own
                m.put("burst_writes_all", zEnd - z0 - 1);
                // The busiest second of the burst, wherever it fell (on two cores the clients themselves spread it).
                long peak = 0;
                for (long[] a : zxids) {
                    if (a[0] < t0) continue;
                    long from = a[1];
                    long to = zxids.stream().filter(x -> x[0] <= a[0] + 1000).mapToLong(x -> x[1]).max().orElse(from);
                    peak = Math.max(peak, to - from);
                }
                m.put("burst_writes_peak_s", peak);
                // The same from the agents' side: status writes completed in the busiest second (a
                // follower's zxid can lag and then jump).
                List<Long> done = longs(burst, "written");
                done.sort(null);
                int busiest = 0;
                for (int i = 0, j = 0; i < done.size(); i++) {
                    while (done.get(i) - done.get(j) >= 1000) j++;
                    busiest = Math.max(busiest, i - j + 1);
                }
                m.put("burst_status_written_peak_s", busiest);
                List<Long> delays = longs(burst, "writeDelay");
                m.put("burst_written_within_1s_of_apply", Stats.round(delays.stream().filter(x -> x <= 1000).count() / (double) Math.max(1, delays.size())));
                m.put("burst_status_written_first_s", longs(burst, "written").stream().filter(x -> x <= 1000).count());
                m.put("burst_all_applied_s", Stats.round(longs(burst, "applied").stream().mapToLong(Long::longValue).max().orElse(0) / 1000.0));
                m.put("burst_all_written_s", Stats.round(longs(burst, "written").stream().mapToLong(Long::longValue).max().orElse(0) / 1000.0));

                // A leader kill (-Dbench.fleetscale.kill=false leaves it out: on two cores thousands of
                // sessions reconnecting starve the machine, and the measure is of the machine).
                if (!Boolean.parseBoolean(System.getProperty("bench.fleetscale.kill", "true"))) {
                    Benchmarks.log("  " + mode + ": " + m);
                    return m;
                }
                int leader = ensemble.leader();
                long[] wchar0 = new long[ensemble.size()];
                for (int i = 0; i < ensemble.size(); i++) if (i != leader) wchar0[i] = wchar(ensemble.pid(i));
                long lost0 = n(burst, "lost");
                long lists0 = n(burst, "electionLists"), names0 = n(burst, "electionNames");
                long t1 = System.currentTimeMillis();
                ensemble.kill(leader);
                java.util.function.Predicate<Map<String, Object>> whole = rep -> n(rep, "connected") == gateways
                        && ((List<?>) rep.get("reconnected")).size() >= gateways && n(rep, "standing") == candidates && n(rep, "leading") == 1;
                Map<String, Object> back = awaitOrLast(clients, t1, 1, KILL_WAIT_S, whole);
                m.put("kill_all_back_s", whole.test(back) ? Stats.round((System.currentTimeMillis() - t1) / 1000.0) : "not within " + KILL_WAIT_S);
                m.put("kill_connected_at_end", n(back, "connected"));
                List<Long> rec = longs(back, "reconnected");
                rec.sort(null);
                if (rec.isEmpty()) rec.add(-1000L);
                m.put("kill_reconnect_p50_s", Stats.round(rec.get(rec.size() / 2) / 1000.0));
                m.put("kill_reconnect_p99_s", Stats.round(rec.get(Math.min(rec.size() - 1, (int) Math.ceil(rec.size() * 0.99) - 1)) / 1000.0));
                m.put("kill_expiries", n(back, "lost") - lost0);
                long bytes = 0;
                for (int i = 0; i < ensemble.size(); i++) if (i != leader) bytes += wchar(ensemble.pid(i)) - wchar0[i];
                m.put("kill_server_bytes", bytes);
                // The election's lists the clients got meanwhile, and the names in them (about 58
                // bytes of reply each): each candidate lists the election again, as long as the candidates.
                m.put("kill_election_lists", n(back, "electionLists") - lists0);
                m.put("kill_election_list_names", n(back, "electionNames") - names0);
                Benchmarks.log("  " + mode + ": " + m);
            } finally {
                // After the clients are gone: on two cores a server started beside thousands of
                // reconnecting sessions may not serve within a minute.
                for (int i = 0; i < ensemble.size(); i++) {
                    if (FourLetterWords.ask(ensemble.clientPort(i), "srvr").isEmpty()) {
                        ensemble.kill(i);
                        ensemble.restart(i);
                    }
                }
            }
        } finally {
            operator.close();
        }
        return m;
    }

    private Map<String, Object> await(Clients clients, long t0, long version, int seconds, java.util.function.Predicate<Map<String, Object>> done)
            throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Map<String, Object> rep;
        while (!done.test(rep = clients.report(t0, version))) {
            if (System.nanoTime() > end) {
                rep.remove("applied");
                rep.remove("written");
                rep.remove("reconnected");
                rep.remove("writeDelay");
                throw new IllegalStateException("not within " + seconds + " s: " + rep);
            }
            Thread.sleep(1000);
        }
        return rep;
    }

    /** As {@link #await}, but at the end of the wait the last report, whatever it says (a measurement, not a check). */
    private Map<String, Object> awaitOrLast(Clients clients, long t0, long version, int seconds, java.util.function.Predicate<Map<String, Object>> done)
            throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Map<String, Object> rep;
        while (!done.test(rep = clients.report(t0, version)) && System.nanoTime() < end) Thread.sleep(1000);
        return rep;
    }

    /** How long a leader kill is watched: on two cores, thousands of sessions may take longer to come back. */
    private static final int KILL_WAIT_S = 480;

    private static long n(Map<String, Object> rep, String key) {
        return ((Number) rep.get(key)).longValue();
    }

    @SuppressWarnings("unchecked")
    private static List<Long> longs(Map<String, Object> rep, String key) {
        return new ArrayList<>((List<Long>) rep.get(key));
    }

    /** At rest, after 10 s to settle, over {@code rest} seconds: requests, watches and ephemerals per gateway, and writes. */
    private void atRest(Map<String, Object> m, int gateways, int rest) throws InterruptedException {
        Thread.sleep(10_000);
        Map<String, Long> before = mntr(), after;
        Thread.sleep(rest * 1000L);
        after = mntr();
        m.put("rest_window_s", rest);
        m.put("rest_requests_per_gateway_s", Stats.round((after.get("zk_packets_received") - before.get("zk_packets_received")) / (double) rest / gateways));
        m.put("rest_watches_per_gateway", Stats.round(after.get("zk_watch_count") / (double) gateways));
        // Every server counts the whole tree's ephemerals (the others are per server: summed).
        m.put("rest_ephemerals_per_gateway", Stats.round(after.get("zk_ephemerals_count") / (double) ensemble.size() / gateways));
        m.put("rest_server_writes", zxid() - zxidAt(before));
    }

    /** The servers' {@code mntr} counters, summed over the servers, with the zxid of one. */
    private Map<String, Long> mntr() {
        Map<String, Long> sum = new LinkedHashMap<>();
        for (int i = 0; i < ensemble.size(); i++) {
            for (String line : FourLetterWords.ask(ensemble.clientPort(i), "mntr").split("\n")) {
                String[] kv = line.split("\t");
                if (kv.length == 2 && kv[1].matches("-?\\d+")) sum.merge(kv[0], Long.parseLong(kv[1]), Long::sum);
            }
        }
        sum.put("zxid", zxid());
        return sum;
    }

    private static long zxidAt(Map<String, Long> mntr) {
        return mntr.get("zxid");
    }

    /**
     * The ensemble's last zxid (its counter part: writes since the epoch began): the highest any
     * server answers with. One server alone may be a follower that has not applied the last
     * commits yet (CI once counted 19 of 20 status writes that way).
     */
    private long zxid() {
        long max = 0;
        for (int i = 0; i < ensemble.size(); i++) {
            for (String line : FourLetterWords.ask(ensemble.clientPort(i), "srvr").split("\n")) {
                if (line.startsWith("Zxid: 0x")) max = Math.max(max, Long.parseUnsignedLong(line.substring(8).trim(), 16)); // epoch, then counter
            }
        }
        return max & 0xffffffffL;
    }

    /**
     * The same profile on real agents, so that the shaped sessions are shown to match them:
     * {@code count} whole {@link Agent}s in this JVM (each with its session, MQTT connection, journal,
     * admin socket and a simulated sensor at 1 Hz, the defaults of today), 15 s sessions as the shaped
     * ones: requests, watches and ephemerals per gateway and writes at rest, then one write to the
     * fleet's sensor document: the ensemble's writes per gateway, and the time until every agent's
     * status znode carried it.
     */
    Map<String, Object> realAgents(MosquittoBroker broker, int count, int rest) throws Exception {
        FleetBenchmark.checkLimits(count);
        String root = "/fs-agents-" + System.nanoTime(), fleet = "scale";
        FleetPaths fp = new FleetPaths(root, fleet, "-");
        String doc = fp.fleetConfig() + "/sensors/s1";
        Path dir = Files.createDirectories(work.resolve("agents-" + System.nanoTime() % 100000));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agents", count);
        List<Agent> agents = new CopyOnWriteArrayList<>();
        ZooKeeper operator = ZooKeeperBaseline.connect(ensemble.connectString());
        try {
            ConfigFanOutBenchmark.createAll(operator, doc, sensor(0));
            ConfigFanOutBenchmark.createAll(operator, fp.members(), new byte[0]);
            Drivers drivers = Drivers.load();
            long t = System.nanoTime();
            try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
                List<Future<?>> started = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    String id = "gw-" + i;
                    started.add(pool.submit(() -> {
                        Path d = dir.resolve(id);
                        Agent a = new Agent(new BootstrapConfig(new BootstrapConfig.Device(id, fleet),
                                new BootstrapConfig.ZooKeeper(ensemble.connectString(), root, Duration.ofSeconds(15), Optional.empty(), Optional.empty()),
                                new BootstrapConfig.Mqtt(URI.create(broker.uri()), fleet + "-" + id + "-" + System.nanoTime() % 100000,
                                        Optional.empty(), Optional.empty(), Optional.empty()),
                                d, d.resolve("admin.sock")), drivers, Clock.systemUTC());
                        agents.add(a);
                        a.start();
                        return null;
                    }));
                }
                for (Future<?> f : started) f.get(10, TimeUnit.MINUTES);
            }
            awaitStatus(operator, root, fleet, count, 0, Math.max(120, count / 5));
            m.put("start_s", Stats.round((System.nanoTime() - t) / 1e9));
            Benchmarks.log("  " + count + " agents registered and their status written in " + m.get("start_s") + " s");

            atRest(m, count, rest);

            long z0 = zxid(), t0 = System.nanoTime();
            operator.setData(doc, sensor(1), -1);
            awaitStatus(operator, root, fleet, count, 1, 120);
            m.put("change_all_written_s", Stats.round((System.nanoTime() - t0) / 1e9));
            Thread.sleep(1000);
            m.put("change_writes_per_gateway", Stats.round((zxid() - z0 - 1) / (double) count)); // not the operator's own
            m.put("standing", operator.getChildren(fp.election(), false).size());
        } finally {
            try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
                for (Agent a : agents) pool.submit(a::close);
            }
            operator.close();
        }
        Benchmarks.log("  real agents: " + m);
        return m;
    }

    /** Until every device's status znode carries at least fleet config {@code version}. */
    private static void awaitStatus(ZooKeeper operator, String root, String fleet, int count, long version, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (int i = 0; i < count; ) {
            byte[] data;
            try {
                data = operator.getData(new FleetPaths(root, fleet, "gw-" + i).status(), false, null);
            } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
                data = null;
            }
            if (data != null && Json.tree(data).path("config").path("fleetVersion").asLong(-1) >= version) {
                i++;
                continue;
            }
            if (System.nanoTime() > end) throw new IllegalStateException("not every status carried version " + version + " within " + seconds + " s: " + i + " of " + count);
            Thread.sleep(200);
        }
    }

    private static long wchar(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
            if (line.startsWith("wchar:")) return Long.parseLong(line.substring(6).trim());
        }
        return 0;
    }

    private static byte[] sensor(int r) {
        return ("{\"driver\":\"simulated\",\"interval\":\"" + (1000 + r) + "ms\"}").getBytes(StandardCharsets.UTF_8);
    }
}
