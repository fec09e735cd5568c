package dev.meerkat.bench;

import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.MosquittoBroker;
import dev.meerkat.test.fixtures.ProcessEnsemble;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.zookeeper.ZooKeeper;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * The footprint of one real gateway agent: {@code meerkat run} through the distribution's launcher
 * with the JVM options it ships, 10 simulated sensors at 1 Hz, ZooKeeper and MQTT connected. From
 * the launch: the time until its member znode is there and until its first reading reaches a
 * subscriber; after a settling time, its resident memory and the CPU it used over the last part
 * of it. Without the class-data archive, then with it (a first run makes the archive, as on a
 * gateway's first start; the next run uses it). And the size of the jars it runs on.
 */
final class FootprintBenchmark {
    private static final int SENSORS = 10;
    private static final long CLOCK_TICKS = 100; // USER_HZ, the unit of /proc/PID/stat's times on Linux

    private final ProcessEnsemble ensemble;
    private final MosquittoBroker broker;
    private final Path dir;

    FootprintBenchmark(ProcessEnsemble ensemble, MosquittoBroker broker, Path dir) {
        this.ensemble = ensemble;
        this.broker = broker;
        this.dir = dir;
    }

    /** @param settle how long each measured agent runs before its memory is read; the CPU share is over its second half. */
    Map<String, Object> run(Duration settle) throws Exception {
        String root = "/footprint-" + System.nanoTime();
        String fleet = "fp";
        Path work = Files.createDirectories(dir.resolve("footprint-" + System.nanoTime() % 100000));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sensors", SENSORS);
        m.put("settle_s", settle.toSeconds());
        String opts = System.getenv("MEERKAT_JAVA_OPTS");
        m.put("jvm_options", opts == null ? "the launcher's (MEERKAT_JAVA_OPTS unset)" : opts);
        Path lib = AgentProcess.distribution().resolve("lib");
        long bytes;
        long jars;
        try (Stream<Path> files = Files.list(lib)) {
            List<Path> js = files.filter(p -> p.toString().endsWith(".jar")).toList();
            jars = js.size();
            long b = 0;
            for (Path p : js) b += Files.size(p);
            bytes = b;
        }
        m.put("jars", jars);
        m.put("jar_set_mib", Stats.round(bytes / 1048576.0));

        ZooKeeper operator = ZooKeeperBaseline.connect(ensemble.connectString());
        try {
            FleetPaths fp = new FleetPaths(root, fleet, "gw-fp");
            for (int i = 1; i <= SENSORS; i++) {
                ConfigFanOutBenchmark.createAll(operator, fp.fleetConfig() + "/sensors/s" + i,
                        "{\"driver\":\"simulated\",\"interval\":\"1s\"}".getBytes(StandardCharsets.UTF_8));
            }
            Path cds = Files.createDirectories(work.resolve("cds"));
            m.put("without_archive", once(work, "none", root, fleet, fp, operator, null, settle));
            Benchmarks.log("footprint: without archive " + m.get("without_archive"));
            // The first start with a writable archive directory makes the archive (its figures are the first start's).
            m.put("making_archive", once(work, "training", root, fleet, fp, operator, cds, Duration.ofSeconds(Math.min(20, settle.toSeconds()))));
            Benchmarks.log("footprint: making the archive " + m.get("making_archive"));
            try (Stream<Path> made = Files.list(cds)) {
                m.put("archive_files", made.map(p -> p.getFileName().toString()).sorted().toList());
            }
            m.put("with_archive", once(work, "archive", root, fleet, fp, operator, cds, settle));
            Benchmarks.log("footprint: with archive " + m.get("with_archive"));
        } finally {
            operator.close();
        }
        return m;
    }

    private Map<String, Object> once(Path work, String label, String root, String fleet, FleetPaths fp, ZooKeeper operator,
                                     Path cds, Duration settle) throws Exception {
        Path d = Files.createDirectories(work.resolve(label));
        Path yaml = d.resolve("agent.yaml");
        Files.writeString(yaml, String.join("\n",
                "device: { id: gw-fp, fleet: " + fleet + " }",
                "zookeeper: { connect: \"" + ensemble.connectString() + "\", root: " + root + ", sessionTimeout: 10s }",
                "mqtt: { uri: \"" + broker.uri() + "\", clientId: fp-" + label + " }",
                "storage: { dir: " + d.resolve("state") + " }",
                "admin: { socket: " + d.resolve("admin.sock") + " }", ""));
        AtomicLong firstReading = new AtomicLong();
        MqttClient sub = new MqttClient(broker.uri(), "fp-sub-" + System.nanoTime(), new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        sub.connect(o);
        sub.subscribe("meerkat/" + fleet + "/gw-fp/sensors/#", 1, (t, msg) -> firstReading.compareAndSet(0, System.nanoTime()));
        Map<String, Object> r = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        AgentProcess agent = AgentProcess.start(d.resolve("agent.log"),
                cds == null ? Map.of() : Map.of("MEERKAT_CDS_DIR", cds.toString()), "run", "--config", yaml.toString());
        try {
            long registered = 0;
            long end = t0 + TimeUnit.SECONDS.toNanos(60);
            while ((registered == 0 || firstReading.get() == 0) && System.nanoTime() < end) {
                if (registered == 0 && operator.exists(fp.member(), false) != null) registered = System.nanoTime();
                if (!agent.alive()) throw new IllegalStateException("the agent exited: " + agent.log());
                Thread.sleep(2);
            }
            if (registered == 0 || firstReading.get() == 0) throw new IllegalStateException("the agent did not register and read within 60 s: " + agent.log());
            r.put("start_to_registered_ms", Stats.round((registered - t0) / 1e6));
            r.put("start_to_first_reading_ms", Stats.round((firstReading.get() - t0) / 1e6));
            Thread.sleep(settle.toMillis() / 2);
            long cpu0 = cpuTicks(agent.pid()), w0 = System.nanoTime();
            Thread.sleep(settle.toMillis() - settle.toMillis() / 2);
            long cpu1 = cpuTicks(agent.pid()), w1 = System.nanoTime();
            r.put("rss_mib", Stats.round(statusKib(agent.pid(), "VmRSS") / 1024.0));
            r.put("rss_peak_mib", Stats.round(statusKib(agent.pid(), "VmHWM") / 1024.0));
            r.put("cpu_percent_of_a_core", Stats.round((cpu1 - cpu0) * 100.0 / CLOCK_TICKS / ((w1 - w0) / 1e9)));
            r.put("cpu_window_s", Stats.round((w1 - w0) / 1e9));
            agent.signal("TERM");
            r.put("exit", agent.waitFor(Duration.ofSeconds(120)));
        } finally {
            agent.close();
            sub.disconnect();
            sub.close();
            operator.delete(fp.member(), -1, (rc, p, ctx) -> {}, null); // in case it was killed; normally gone already
        }
        return r;
    }

    /** CPU time of process {@code pid} so far, in clock ticks ({@code utime + stime}). */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
    }

    static long statusKib(long pid, String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IOException(key + " not in /proc/" + pid + "/status");
    }
}
