package dev.meerkat.bench;

import dev.meerkat.coordination.testing.FourLetterWords;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.ProcessEnsemble;
import dev.meerkat.testing.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * What {@code meerkat fleet exporter} costs per fleet size (issue 25): a fleet of N devices written
 * straight into the ensemble (a member znode and a status znode of the agent's shape each, as N
 * agents leave them), the exporter started as a process through the launcher; then its time to
 * the first complete scrape, a scrape's time and size, its resident memory, and the watches it
 * adds on the servers ({@code mntr}'s {@code zk_watch_count}, summed).
 */
final class ExporterBenchmark {
    private final ProcessEnsemble ensemble;
    private final Path dir;

    ExporterBenchmark(ProcessEnsemble ensemble, Path dir) {
        this.ensemble = ensemble;
        this.dir = dir;
    }

    Map<String, Object> run(int[] sizes) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int n : sizes) {
            Map<String, Object> r = one(n);
            m.put(Integer.toString(n), r);
            Benchmarks.log("exporter: " + n + " devices " + r);
        }
        return m;
    }

    private Map<String, Object> one(int n) throws Exception {
        String root = "/exporter-" + System.nanoTime();
        String base = root + "/fleets/big";
        Path work = Files.createDirectories(dir.resolve("exporter-" + n + "-" + System.nanoTime() % 100000));
        ZooKeeper zk = ZooKeeperBaseline.connect(ensemble.connectString());
        try {
            ConfigFanOutBenchmark.createAll(zk, base + "/config/sensors/s1", "{\"driver\":\"simulated\"}".getBytes(StandardCharsets.UTF_8));
            ConfigFanOutBenchmark.createAll(zk, base + "/members", new byte[0]);
            ConfigFanOutBenchmark.createAll(zk, base + "/devices", new byte[0]);
            CountDownLatch created = new CountDownLatch(3 * n);
            for (int i = 0; i < n; i++) {
                String d = "gw-" + i;
                zk.create(base + "/members/" + d, member(d), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, (rc, p, c, name) -> created.countDown(), null);
                zk.create(base + "/devices/" + d, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, (rc, p, c, name) -> created.countDown(), null);
                zk.create(base + "/devices/" + d + "/status", status(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                        (rc, p, c, name) -> created.countDown(), null);
            }
            if (!created.await(5, TimeUnit.MINUTES)) throw new IllegalStateException("the fleet's znodes were not created in 5 minutes");
            long watchesBefore = watches();
            Path ops = work.resolve("ops.yaml");
            Files.writeString(ops, "zookeeper: { connect: \"" + ensemble.connectString() + "\", root: " + root + " }\n");
            int port = Ports.free();
            URI uri = URI.create("http://127.0.0.1:" + port + "/metrics");
            HttpClient http = HttpClient.newHttpClient();
            long t0 = System.nanoTime();
            try (AgentProcess exporter = AgentProcess.start(work.resolve("exporter.log"), "fleet", "exporter", "--config", ops.toString(),
                    "--fleet", "big", "--listen", "127.0.0.1:" + port)) {
                String complete = "meerkat_fleet_devices{fleet=\"big\"} " + n + ".0\n";
                String body = "";
                while (!body.contains(complete)) {
                    if (!exporter.alive()) throw new IllegalStateException("the exporter exited: " + exporter.log());
                    if (System.nanoTime() - t0 > TimeUnit.MINUTES.toNanos(5)) throw new IllegalStateException("no complete scrape in 5 minutes");
                    Thread.sleep(100);
                    try {
                        body = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
                    } catch (java.io.IOException notYet) {
                        body = "";
                    }
                }
                double ready = (System.nanoTime() - t0) / 1e9;
                long scrape0 = System.nanoTime();
                int scrapes = 5, bytes = 0;
                for (int i = 0; i < scrapes; i++) bytes = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body().length();
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("devices", n);
                r.put("first_complete_scrape_s", Stats.round(ready));
                r.put("scrape_ms", Stats.round((System.nanoTime() - scrape0) / 1e6 / scrapes));
                r.put("scrape_kib", Stats.round(bytes / 1024.0));
                r.put("rss_mib", Stats.round(FootprintBenchmark.statusKib(exporter.pid(), "VmRSS") / 1024.0));
                r.put("server_watches_added", watches() - watchesBefore);
                exporter.signal("TERM");
                r.put("exit", exporter.waitFor(Duration.ofSeconds(30)));
                return r;
            }
        } finally {
            zk.close();
        }
    }

    /** The watches the servers hold, summed ({@code mntr}). */
    private long watches() {
        long sum = 0;
        for (int i = 0; i < ensemble.size(); i++) {
            for (String line : FourLetterWords.ask(ensemble.clientPort(i), "mntr").split("\n")) {
                if (line.startsWith("zk_watch_count")) sum += Long.parseLong(line.split("\\s+")[1].trim());
            }
        }
        return sum;
    }

    private static byte[] member(String device) {
        return ("{\"device\":\"" + device + "\",\"fleet\":\"big\",\"agentVersion\":\"0.1.0\",\"firmware\":\"0.1.0\",\"host\":\"" + device
                + "\",\"addresses\":[\"10.0.0.1\"],\"startedAt\":\"2026-12-06T08:00:00Z\",\"capabilities\":[\"simulated\"]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** A status of the agent's shape: config, ten sensors, the MQTT accounting. */
    private static byte[] status() {
        StringBuilder sensors = new StringBuilder();
        for (int i = 1; i <= 10; i++) {
            if (i > 1) sensors.append(',');
            sensors.append("\"s").append(i).append("\":{\"state\":\"ok\",\"lastReadingAt\":\"2026-12-06T08:00:00.000Z\",\"errors\":0}");
        }
        return ("{\"config\":{\"fleetVersion\":0,\"deviceVersion\":-1,\"digest\":\"sha256:390dc96840e4\",\"appliedAt\":\"2026-12-06T08:00:00Z\","
                + "\"errors\":[]},\"sensors\":{" + sensors + "},\"mqtt\":{\"connected\":true,\"buffered\":0,\"oldestBufferedAt\":null,"
                + "\"enqueued\":1000,\"sent\":1000,\"acknowledged\":1000,\"dropped\":{},\"lastDroppedAt\":null,\"journalError\":null},"
                + "\"firmware\":{\"running\":\"0.1.0\"}}").getBytes(StandardCharsets.UTF_8);
    }
}
