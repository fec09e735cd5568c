package dev.meerkat.bench;

import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.MosquittoBroker;
import dev.meerkat.test.fixtures.ProcessEnsemble;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.zookeeper.ZooKeeper;

/**
 * What one agent costs a gateway at rest: {@code meerkat run} through the launcher, 10 simulated
 * sensors at 1 Hz, ZooKeeper and MQTT connected; after a settling time, over a window, from
 * {@code /proc}: its threads, its wake-ups (context switches, voluntary and not, in all and by
 * thread), its CPU as a share of a core and its resident memory. Beside it, in the same run, an
 * empty JVM started with the launcher's own JVM options: the floor no Java agent goes under.
 */
final class RestBenchmark {
    private static final int SENSORS = 10;
    private static final long CLOCK_TICKS = 100; // USER_HZ

    private final ProcessEnsemble ensemble;
    private final MosquittoBroker broker;
    private final Path dir;

    RestBenchmark(ProcessEnsemble ensemble, MosquittoBroker broker, Path dir) {
        this.ensemble = ensemble;
        this.broker = broker;
        this.dir = dir;
    }

    Map<String, Object> run(Duration settle, Duration window) throws Exception {
        Path work = Files.createDirectories(dir.resolve("rest-" + System.nanoTime() % 100000));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sensors", SENSORS);
        m.put("settle_s", settle.toSeconds());
        m.put("window_s", window.toSeconds());
        m.put("agent", agent(work.resolve("plain"), settle, window, null, false));
        Benchmarks.log("rest: agent " + m.get("agent"));
        // The same with its Prometheus endpoint on, scraped every 15 s (Prometheus's default): what metrics cost.
        m.put("agent_metrics", agent(work.resolve("metrics"), settle, window, null, true));
        Benchmarks.log("rest: agent, metrics on " + m.get("agent_metrics"));
        // The same with batching (SPEC §4 publish.batch): what fewer, larger messages save Paho's threads.
        m.put("agent_batched", agent(work.resolve("batched"), settle, window, BATCHED, false));
        Benchmarks.log("rest: agent, batched " + m.get("agent_batched"));
        m.put("empty_jvm", emptyJvm(work, settle, window));
        Benchmarks.log("rest: empty JVM " + m.get("empty_jvm"));
        return m;
    }

    /** The fleet's agent document of the batched run: up to 10 readings a message, at most 1 s late. */
    static final String BATCHED = "{\"publish\": {\"batch\": {\"maxMessages\": 10, \"maxDelay\": \"1s\"}}}";

    /**
     * @param agentDoc the fleet's agent document, or null for none (the defaults)
     * @param metrics with {@code metrics.listen}, scraped every 15 s meanwhile
     */
    private Map<String, Object> agent(Path work, Duration settle, Duration window, String agentDoc, boolean metrics) throws Exception {
        Files.createDirectories(work);
        int port = metrics ? dev.meerkat.testing.Ports.free() : 0;
        Path classes = work.resolve("classes.log");
        // The launcher's own options, and a log of the classes loaded, to count them.
        String opts = String.join(" ", launcherOptions()) + " -Xlog:class+load=info:file=" + classes;
        try (OneAgent agent = OneAgent.start(ensemble, broker, work, "rest", SENSORS, "1s", agentDoc, work.resolve("state"),
                metrics ? "metrics: { listen: \"127.0.0.1:" + port + "\" }\n" : "", Map.of("MEERKAT_JAVA_OPTS", opts));
             Scraper scraper = metrics ? new Scraper(port, Duration.ofSeconds(15)) : null) {
            Thread.sleep(settle.toMillis());
            long d0 = agent.readings();
            Map<String, Object> r = measure(agent.process.pid(), window);
            List<String> loaded = Files.readAllLines(classes);
            r.put("classes_loaded", loaded.size());
            r.put("prometheus_classes_loaded", loaded.stream().filter(l -> l.contains(" io.prometheus.")).count());
            if (scraper != null) r.put("scrapes", scraper.scrapes());
            long readings = agent.readings() - d0;
            r.put("readings_delivered", readings);
            double secs = (Double) r.get("window_s");
            r.put("wakeups_per_reading", Stats.round(((Number) r.get("wakeups_per_s")).doubleValue() * secs / Math.max(1, readings)));
            r.put("exit", agent.stop());
            return r;
        }
    }

    private Map<String, Object> emptyJvm(Path work, Duration settle, Duration window) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(launcherOptions());
        cmd.addAll(List.of("-cp", Path.of(IdleJvm.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString(),
                IdleJvm.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("empty-jvm.log").toFile())).start();
        try {
            Thread.sleep(Math.min(settle.toMillis(), 10_000));
            if (!p.isAlive()) throw new IllegalStateException("the empty JVM exited: " + Files.readString(work.resolve("empty-jvm.log")));
            Map<String, Object> r = measure(p.pid(), window);
            r.put("jvm_options", String.join(" ", launcherOptions()));
            return r;
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    /** Readings in one message: one, or with batching as many as its JSON array holds. */
    static int readings(byte[] payload) {
        if (payload.length == 0 || payload[0] != '[') return 1;
        String text = new String(payload, StandardCharsets.UTF_8);
        int n = 0;
        for (int at = text.indexOf("\"seq\":"); at >= 0; at = text.indexOf("\"seq\":", at + 1)) n++; // one seq a reading (SPEC §8)
        return n;
    }

    /** The JVM options the distribution's launcher starts the agent with when MEERKAT_JAVA_OPTS is unset. */
    static List<String> launcherOptions() throws IOException {
        String launcher = Files.readString(AgentProcess.distribution().resolve("bin/meerkat"));
        Matcher m = Pattern.compile("MEERKAT_JAVA_OPTS:=([^}]*)}").matcher(launcher);
        if (!m.find()) throw new IOException("no default MEERKAT_JAVA_OPTS in the launcher");
        List<String> opts = new ArrayList<>(List.of(m.group(1).trim().split("\\s+")));
        if (Runtime.version().feature() >= 22) opts.add("--enable-native-access=ALL-UNNAMED");
        return opts;
    }

    /** Threads, wake-ups, CPU and memory of process {@code pid} over {@code window}. */
    static Map<String, Object> measure(long pid, Duration window) throws Exception {
        Map<String, Task> before = tasks(pid);
        long cpu0 = FootprintBenchmark.cpuTicks(pid), w0 = System.nanoTime();
        Thread.sleep(window.toMillis());
        Map<String, Task> after = tasks(pid);
        long cpu1 = FootprintBenchmark.cpuTicks(pid), w1 = System.nanoTime();
        double secs = (w1 - w0) / 1e9;
        Map<String, Long> byKind = new HashMap<>();
        long all = 0;
        for (Map.Entry<String, Task> e : after.entrySet()) {
            Task b = before.get(e.getKey());
            long d = e.getValue().switches - (b == null ? 0 : b.switches);
            all += d;
            byKind.merge(kind(e.getValue().name), d, Long::sum);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("window_s", Stats.round(secs));
        r.put("threads", after.size());
        r.put("wakeups_per_s", Stats.round(all / secs));
        r.put("cpu_percent_of_a_core", Stats.round((cpu1 - cpu0) * 100.0 / CLOCK_TICKS / secs));
        r.put("rss_mib", Stats.round(FootprintBenchmark.statusKib(pid, "VmRSS") / 1024.0));
        Map<String, Object> threads = new LinkedHashMap<>();
        byKind.entrySet().stream().filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> threads.put(e.getKey(), Stats.round(e.getValue() / secs)));
        r.put("wakeups_per_s_by_thread", threads);
        Map<String, Long> names = new TreeMap<>();
        after.values().forEach(t -> names.merge(kind(t.name), 1L, Long::sum));
        r.put("thread_names", names);
        return r;
    }

    private record Task(String name, long switches) {}

    private static Map<String, Task> tasks(long pid) throws IOException {
        Map<String, Task> m = new HashMap<>();
        try (Stream<Path> ts = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : (Iterable<Path>) ts::iterator) {
                try {
                    String name = "?";
                    long sw = 0;
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("Name:")) name = line.substring(5).trim();
                        else if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            sw += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                    m.put(t.getFileName().toString(), new Task(name, sw));
                } catch (IOException gone) {
                    // the thread ended between the listing and the read
                }
            }
        }
        return m;
    }

    /** A thread's kind: its name without the numbers that tell threads of one pool apart. */
    private static String kind(String name) {
        String k = name.replaceAll("[0-9]+", "N");
        return k.isEmpty() ? "?" : k;
    }

    /** Gets {@code /metrics} every {@code every}, as Prometheus does, on a thread of its own. */
    private static final class Scraper implements AutoCloseable {
        private final Thread thread;
        private final java.util.concurrent.atomic.AtomicInteger scrapes = new java.util.concurrent.atomic.AtomicInteger();

        Scraper(int port, Duration every) {
            var http = java.net.http.HttpClient.newHttpClient();
            var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/metrics")).build();
            thread = Thread.ofPlatform().daemon().name("bench-scraper").start(() -> {
                try {
                    while (true) {
                        if (http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode() == 200) scrapes.incrementAndGet();
                        Thread.sleep(every.toMillis());
                    }
                } catch (InterruptedException e) {
                    // closed
                } catch (IOException e) {
                    Benchmarks.log("rest: a scrape failed: " + e);
                }
            });
        }

        int scrapes() {
            return scrapes.get();
        }

        @Override
        public void close() {
            thread.interrupt();
        }
    }
}
