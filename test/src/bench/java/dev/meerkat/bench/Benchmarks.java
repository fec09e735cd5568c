package dev.meerkat.bench;

import dev.meerkat.config.Json;
import dev.meerkat.test.fixtures.MosquittoBroker;
import dev.meerkat.test.fixtures.ProcessEnsemble;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark harness: {@code ./mvnw -B -Pbench -pl test -am verify} (all) or with
 * {@code -Dbench.args=quick}. Servers: a 3-server ZooKeeper ensemble, each server its own JVM, and
 * the mosquitto binary, all on this machine. Results: {@code test/target/bench/results.md} and
 * {@code results.json}. Later issues add Meerkat's own figures beside these baselines, as ratios.
 */
public final class Benchmarks {
    /** How big a run: all (the figures in the docs), quick (a few minutes), smoke (the test suite's run, to keep the harness working). */
    enum Mode {
        ALL, QUICK, SMOKE;

        static Mode of(String s) {
            return switch (s) {
                case "all" -> ALL;
                case "quick" -> QUICK;
                case "smoke" -> SMOKE;
                default -> throw new IllegalArgumentException("unknown benchmark mode \"" + s + "\" (all, quick, smoke)");
            };
        }

        <T> T pick(T all, T quick, T smoke) {
            return this == ALL ? all : this == QUICK ? quick : smoke;
        }
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "target/bench");
        Mode mode = Mode.of(args.length > 1 ? args[1] : "all");
        // -Dbench.only=registration,fanout (sections: crud, watch, fanout, registration, locks, paho, bridge, fleet, footprint, rest, flash, exporter, fleetscale); default all.
        run(out, mode, java.util.Set.of(System.getProperty("bench.only", "all").split(",")));
    }

    /** Runs the sections in {@code only} ("all" for every one) and writes results.md and results.json to {@code out}. */
    static Map<String, Object> run(Path outDir, Mode mode, java.util.Set<String> only) throws Exception {
        dev.meerkat.agent.logging.Logging.setUp("warn");
        Path out = Files.createDirectories(outDir);
        java.util.function.Predicate<String> runs = s -> only.contains("all") || only.contains(s);
        Path mosquitto = MosquittoBroker.find().orElseThrow(() ->
                new IllegalStateException("the benchmarks need the mosquitto binary: apt-get install -y mosquitto"));

        Map<String, Object> results = new LinkedHashMap<>();
        results.put("when", Instant.now().toString());
        results.put("machine", machine());
        results.put("mode", mode.name().toLowerCase(java.util.Locale.ROOT));
        StringBuilder md = new StringBuilder();
        md.append("# Benchmark results\n\n").append("Machine: ").append(machine()).append("  \nRun: ")
                .append(results.get("when")).append(" (").append(results.get("mode")).append(")\n\n");

        try (ProcessEnsemble zk = new ProcessEnsemble(3, Files.createDirectories(out.resolve("zk-" + System.nanoTime())));
             MosquittoBroker broker = new MosquittoBroker(mosquitto, out.resolve("mqtt"))) {
            log("ensemble " + zk.connectString() + ", broker " + broker.describe());
            ZooKeeperBaseline zkb = new ZooKeeperBaseline(zk.connectString());

            if (runs.test("crud")) {
            log("raw ZooKeeper create/get/set ...");
            zkb.crud(200); // warm-up
            Map<String, Object> crud = zkb.crud(mode.pick(2000, 500, 50));
            results.put("zookeeper_crud", crud);
            md.append("## Raw ZooKeeper client, one session, synchronous (µs)\n\n")
                    .append("| op | count | p50 | p99 | max | mean |\n|---|---|---|---|---|---|\n");
            for (String op : List.of("create", "get", "set")) {
                @SuppressWarnings("unchecked")
                Map<String, Object> s = (Map<String, Object>) crud.get(op);
                md.append("| ").append(op).append(" | ").append(s.get("count")).append(" | ").append(s.get("p50_us"))
                        .append(" | ").append(s.get("p99_us")).append(" | ").append(s.get("max_us"))
                        .append(" | ").append(s.get("mean_us")).append(" |\n");
            }
            md.append("\nAll three together: ").append(crud.get("ops_per_s")).append(" ops/s.\n\n");
            }
            if (runs.test("watch")) {
            md.append("## Raw ZooKeeper watch notification, write to each session's callback (µs)\n\n")
                    .append("| sessions | rounds | notifications | p50 | p99 | max | sessions connected in (s) |\n|---|---|---|---|---|---|---|\n");
            Map<String, Object> watches = new LinkedHashMap<>();
            for (int n : mode.pick(new int[] {10, 100, 1000}, new int[] {10, 100}, new int[] {10})) {
                log("raw ZooKeeper watch fan-out, " + n + " sessions ...");
                Map<String, Object> w = zkb.watchFanOut(n, mode == Mode.SMOKE ? 5 : n >= 1000 ? 20 : 50);
                watches.put(Integer.toString(n), w);
                md.append("| ").append(n).append(" | ").append(w.get("rounds")).append(" | ").append(w.get("count"))
                        .append(" | ").append(w.get("p50_us")).append(" | ").append(w.get("p99_us"))
                        .append(" | ").append(w.get("max_us")).append(" | ").append(w.get("connect_s")).append(" |\n");
            }
            results.put("zookeeper_watch", watches);
            }
            if (runs.test("fanout")) {
            md.append("\n## Config fan-out: write to each agent's apply and status write, beside raw watches (µs)\n\n")
                    .append("| N | rounds | raw notified p50 | raw notified p99 | raw notified+read p50 | raw notified+read p99 | agent applied p50 | applied p99 | applied max | status written p50 | status p99 | p99 applied / raw notified | p99 applied / raw notified+read |\n")
                    .append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            Map<String, Object> fanOut = new LinkedHashMap<>();
            ConfigFanOutBenchmark fan = new ConfigFanOutBenchmark(zk.connectString());
            for (int n : sizes("bench.fanout.agents", mode.pick(new int[] {100, 1000}, new int[] {100}, new int[] {10}))) {
                log("config fan-out, " + n + " agents ...");
                Map<String, Object> f = fan.run(n, mode == Mode.SMOKE ? 3 : n >= 1000 ? 10 : 20);
                fanOut.put(Integer.toString(n), f);
                @SuppressWarnings("unchecked") Map<String, Object> raw = (Map<String, Object>) f.get("raw_notified");
                @SuppressWarnings("unchecked") Map<String, Object> rr = (Map<String, Object>) f.get("raw_notified_and_read");
                @SuppressWarnings("unchecked") Map<String, Object> ap = (Map<String, Object>) f.get("agent_applied");
                @SuppressWarnings("unchecked") Map<String, Object> st = (Map<String, Object>) f.get("agent_status_written");
                md.append("| ").append(n).append(" | ").append(f.get("rounds")).append(" | ").append(raw.get("p50_us")).append(" | ")
                        .append(raw.get("p99_us")).append(" | ").append(rr.get("p50_us")).append(" | ").append(rr.get("p99_us"))
                        .append(" | ").append(ap.get("p50_us")).append(" | ").append(ap.get("p99_us"))
                        .append(" | ").append(ap.get("max_us")).append(" | ").append(st.get("p50_us")).append(" | ")
                        .append(st.get("p99_us")).append(" | ").append(f.get("p99_ratio_applied_to_raw")).append(" | ")
                        .append(f.get("p99_ratio_applied_to_raw_read")).append(" |\n");
            }
            results.put("config_fan_out", fanOut);
            }
            if (runs.test("registration")) {
            md.append("\n## Registration: N agents registering at once, beside N raw ephemeral creates; then forced expiries\n\n")
                    .append("| N | rounds | raw: all created, median (ms) | agents: all registered, median (ms) | ratio | expiries | expiry to registered again p50 (ms) | p99 (ms) | max (ms) |\n")
                    .append("|---|---|---|---|---|---|---|---|---|\n");
            Map<String, Object> regs = new LinkedHashMap<>();
            RegistrationBenchmark reg = new RegistrationBenchmark(zk.connectString());
            for (int n : mode.pick(new int[] {1000}, new int[] {100}, new int[] {10})) {
                log("registration, " + n + " agents ...");
                reg.run(n, 1, Math.min(n, 10)); // warm-up: both sides, the same way
                Map<String, Object> r = reg.run(n, mode.pick(5, 3, 1), mode.pick(500, 100, 5));
                regs.put(Integer.toString(n), r);
                log("registration " + r);
                @SuppressWarnings("unchecked") Map<String, Object> ex = (Map<String, Object>) r.get("expiry_to_registered");
                md.append("| ").append(n).append(" | ").append(r.get("rounds")).append(" | ").append(r.get("raw_median_ms")).append(" | ")
                        .append(r.get("agents_median_ms")).append(" | ").append(r.get("ratio_to_raw")).append(" | ")
                        .append(r.get("expiries")).append(" | ").append(Stats.round(((Number) ex.get("p50_us")).doubleValue() / 1000))
                        .append(" | ").append(Stats.round(((Number) ex.get("p99_us")).doubleValue() / 1000)).append(" | ")
                        .append(Stats.round(((Number) ex.get("max_us")).doubleValue() / 1000)).append(" |\n");
            }
            results.put("registration", regs);
            }
            if (runs.test("locks")) {
                LockBenchmark lb = new LockBenchmark(zk.connectString());
                log("locks: uncontended cycle, raw / Curator / Meerkat in turn ...");
                Map<String, Object> u = lb.uncontended(mode.pick(1000, 200, 20), mode.pick(5, 3, 1));
                Map<String, Object> locks = new LinkedHashMap<>();
                locks.put("uncontended", u);
                md.append("\n## Lock cycle on shared hardware: acquire, 1 ms of work, release (µs)\n\n")
                        .append("| way | cycles | p50 | p99 | max | mean |\n|---|---|---|---|---|---|\n");
                for (String way : List.of("raw", "curator_plain", "meerkat")) {
                    @SuppressWarnings("unchecked") Map<String, Object> s = (Map<String, Object>) u.get(way);
                    md.append("| ").append(way).append(" | ").append(s.get("count")).append(" | ").append(s.get("p50_us")).append(" | ")
                            .append(s.get("p99_us")).append(" | ").append(s.get("max_us")).append(" | ").append(s.get("mean_us")).append(" |\n");
                }
                md.append("\nMedian of the rounds' means: Meerkat / raw ").append(u.get("ratio_meerkat_to_raw"))
                        .append(", Curator / raw ").append(u.get("ratio_curator_to_raw")).append(", Meerkat / Curator ")
                        .append(u.get("ratio_meerkat_to_curator")).append(".\n\n")
                        .append("| contending agents | seconds | holds/s | waits that ran out |\n|---|---|---|---|\n");
                List<Object> contended = new java.util.ArrayList<>();
                for (int n : mode.pick(new int[] {2, 4, 8}, new int[] {2, 4, 8}, new int[] {2})) {
                    log("locks: " + n + " agents contending ...");
                    Map<String, Object> c = lb.contended(n, mode.pick(15, 5, 1));
                    contended.add(c);
                    md.append("| ").append(n).append(" | ").append(c.get("seconds")).append(" | ").append(c.get("holds_per_s"))
                            .append(" | ").append(c.get("waits_timed_out")).append(" |\n");
                }
                locks.put("contended", contended);
                results.put("locks", locks);
            }
            if (runs.test("paho")) {
            PahoBaseline paho = new PahoBaseline(broker.uri());
            log("raw Paho QoS 1 ...");
            paho.throughput(mode.pick(2000, 2000, 200), 100); // warm-up
            int messages = mode.pick(100_000, 20_000, 2_000);
            Map<String, Object> windowed = paho.throughput(messages, 1000);
            Map<String, Object> windowed100 = paho.throughput(messages, 100);
            Map<String, Object> oneByOne = paho.latency(mode.pick(5000, 1000, 100));
            results.put("paho_qos1_throughput_window1000", windowed);
            results.put("paho_qos1_throughput_window100", windowed100);
            results.put("paho_qos1_latency_one_at_a_time", oneByOne);
            md.append("\n## Raw Paho QoS 1 to mosquitto, no persistence (").append(PahoBaseline.reading(1042).length)
                    .append("-byte readings)\n\n")
                    .append("| measure | value |\n|---|---|\n")
                    .append("| throughput, 1000 in flight | ").append(windowed.get("msgs_per_s")).append(" msgs/s |\n")
                    .append("| throughput, 100 in flight | ").append(windowed100.get("msgs_per_s")).append(" msgs/s |\n")
                    .append("| publish to PUBACK, one at a time, p50 | ").append(oneByOne.get("p50_us")).append(" µs |\n")
                    .append("| publish to PUBACK, one at a time, p99 | ").append(oneByOne.get("p99_us")).append(" µs |\n");
            }
            if (runs.test("bridge")) {
                PahoBaseline paho = new PahoBaseline(broker.uri());
                BridgeBenchmark bridge = new BridgeBenchmark(broker.uri(), out);
                int messages = mode.pick(100_000, 20_000, 2_000);
                // Until the JIT is done with both: after one warm-up of 20,000 each, the compiler threads
                // still took 0.2-0.65 s of CPU during each bridge run (2 cores, mosquitto on them too).
                log("bridge: warm-up ...");
                for (int i = 0; i < mode.pick(3, 1, 1); i++) {
                    paho.throughput(mode.pick(100_000, 20_000, 1_000), 500);
                    bridge.throughput(mode.pick(100_000, 20_000, 1_000));
                }
                log("bridge: raw Paho and the bridge, in turn, three times ...");
                List<Map<String, Object>> raws = new java.util.ArrayList<>(), bridges = new java.util.ArrayList<>();
                java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
                for (int i = 0; i < 3; i++) {
                    long before = jit.getTotalCompilationTime();
                    Map<String, Object> raw = paho.throughput(messages, 500);
                    raw.put("jit_ms", jit.getTotalCompilationTime() - before); // compiling while it ran
                    raws.add(raw);
                    before = jit.getTotalCompilationTime();
                    Map<String, Object> b = bridge.throughput(messages);
                    b.put("jit_ms", jit.getTotalCompilationTime() - before);
                    bridges.add(b);
                }
                java.util.function.Function<List<Map<String, Object>>, Double> median = l -> l.stream()
                        .mapToDouble(m -> ((Number) m.get("msgs_per_s")).doubleValue()).sorted().skip(1).findFirst().orElseThrow();
                double rawRate = median.apply(raws), bridgeRate = median.apply(bridges);
                Map<String, Object> b1 = bridges.get(0);
                Map<String, Object> batched = bridge.throughput(messages, 10);
                log("bridge: latency at 1000 readings/s ...");
                Map<String, Object> lat = bridge.latency(1000, mode.pick(15, 5, 1));
                log("bridge: sparkplug-b, three times, and its latency at 1000 readings/s ...");
                List<Map<String, Object>> sparkplugs = new java.util.ArrayList<>();
                bridge.throughput(mode.pick(100_000, 20_000, 1_000), 1, "sparkplug-b"); // its warm-up
                for (int i = 0; i < 3; i++) sparkplugs.add(bridge.throughput(messages, 1, "sparkplug-b"));
                double sparkplugRate = median.apply(sparkplugs);
                Map<String, Object> spLat = bridge.latency(1000, mode.pick(15, 5, 1), "sparkplug-b");
                log("bridge: replay of a backlog beside a live sensor ...");
                Map<String, Object> replay = bridge.replay(mode.pick(200_000, 50_000, 2_000), 100);
                Map<String, Object> br = new LinkedHashMap<>();
                br.put("raw_paho", raws);
                br.put("bridge", bridges);
                br.put("ratio_to_raw", Math.round(bridgeRate / rawRate * 100) / 100.0);
                br.put("bridge_batch_10", batched);
                br.put("ratio_batch_10_readings_to_raw_msgs", Math.round(((Number) batched.get("msgs_per_s")).doubleValue() / rawRate * 100) / 100.0);
                br.put("latency_at_1000_per_s", lat);
                br.put("sparkplug_b", sparkplugs);
                br.put("sparkplug_b_ratio_to_raw", Math.round(sparkplugRate / rawRate * 100) / 100.0);
                br.put("sparkplug_b_latency_at_1000_per_s", spLat);
                br.put("replay", replay);
                results.put("bridge", br);
                md.append("\n## MQTT bridge: journal (group commit, fsync) + Paho QoS 1 + mosquitto, beside raw Paho (500 in flight)\n\n")
                        .append("| measure | value |\n|---|---|\n")
                        .append("| raw Paho, msgs/s (three runs) | ").append(raws.stream().map(m -> m.get("msgs_per_s").toString()).toList()).append(" |\n")
                        .append("| bridge, readings/s (three runs) | ").append(bridges.stream().map(m -> m.get("msgs_per_s").toString()).toList()).append(" |\n")
                        .append("| ratio of the medians | ").append(br.get("ratio_to_raw")).append(" |\n")
                        .append("| JIT compiling during each run, ms: raw / bridge | ").append(raws.stream().map(m -> m.get("jit_ms").toString()).toList())
                        .append(" / ").append(bridges.stream().map(m -> m.get("jit_ms").toString()).toList()).append(" |\n")
                        .append("| CPU per message by thread, µs, the third runs: raw | ").append(raws.get(2).get("cpu_us_per_msg")).append(" |\n")
                        .append("| CPU per message by thread, µs, the third runs: bridge | ").append(bridges.get(2).get("cpu_us_per_msg")).append(" |\n")
                        .append("| bridge with publish.batch.maxMessages 10, readings/s | ").append(batched.get("msgs_per_s"))
                        .append(" (").append(br.get("ratio_batch_10_readings_to_raw_msgs")).append("× raw msgs/s) |\n")
                        .append("| fsyncs/s at full speed | ").append(bridges.stream().map(m -> m.get("fsyncs_per_s").toString()).toList()).append(" |\n")
                        .append("| write amplification (bytes written / payload bytes) | ").append(b1.get("write_amplification")).append(" |\n")
                        .append("| sample to PUBACK at 1,000/s, p50 | ").append(lat.get("p50_us")).append(" µs |\n")
                        .append("| sample to PUBACK at 1,000/s, p99 | ").append(lat.get("p99_us")).append(" µs |\n")
                        .append("| sample to PUBACK at 1,000/s, max | ").append(lat.get("max_us")).append(" µs |\n")
                        .append("| fsyncs/s at 1,000/s | ").append(lat.get("fsyncs_per_s")).append(" |\n")
                        .append("| sparkplug-b, readings/s (three runs; QoS 0, DDATA per reading) | ").append(sparkplugs.stream().map(m -> m.get("msgs_per_s").toString()).toList()).append(" |\n")
                        .append("| sparkplug-b, ratio of the medians to raw Paho | ").append(br.get("sparkplug_b_ratio_to_raw")).append(" |\n")
                        .append("| sparkplug-b, sample to written at 1,000/s, p50 / p99 / max | ").append(spLat.get("p50_us")).append(" / ")
                        .append(spLat.get("p99_us")).append(" / ").append(spLat.get("max_us")).append(" µs |\n")
                        .append("| replay of ").append(replay.get("backlog")).append(" readings of one sensor, readings/s | ")
                        .append(replay.get("replay_per_s")).append(" (").append(replay.get("replay_s")).append(" s) |\n")
                        .append("| another sensor's live readings (100/s) while it replays, sample to PUBACK | ")
                        .append(replay.get("live_during_replay")).append(", of ").append(replay.get("live_sampled_during_replay"))
                        .append(" sampled |\n");
            }
            if (runs.test("fleet")) {
                FleetBenchmark fleet = new FleetBenchmark(zk, broker, out);
                Map<String, Object> fleets = new LinkedHashMap<>();
                // 500 in a full run: on 2 cores beside the ensemble and the broker, 1,000 overload the machine (docs/benchmarks.md).
                for (int n : sizes("bench.fleet.agents", mode.pick(new int[] {500}, new int[] {100}, new int[] {5}))) {
                    log("fleet of " + n + " agents ...");
                    FleetBenchmark.Settings settings = mode.pick(
                            new FleetBenchmark.Settings(n, 10, Math.min(n, 100), java.time.Duration.ofSeconds(5), java.time.Duration.ofSeconds(15)),
                            new FleetBenchmark.Settings(n, 5, Math.min(n, 20), java.time.Duration.ofSeconds(3), java.time.Duration.ofSeconds(5)),
                            new FleetBenchmark.Settings(n, 2, Math.min(n, 2), java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(3)));
                    Map<String, Object> f = fleet.run(settings);
                    fleets.put(Integer.toString(n), f);
                    FleetReport.markdown(md, n, f);
                }
                results.put("fleet", fleets);
            }
            if (runs.test("footprint")) {
                log("footprint of one agent process ...");
                Map<String, Object> fp = new FootprintBenchmark(zk, broker, out).run(mode.pick(
                        java.time.Duration.ofMinutes(5), java.time.Duration.ofMinutes(1), java.time.Duration.ofSeconds(10)));
                results.put("footprint", fp);
                FleetReport.footprint(md, fp);
            }
            if (runs.test("rest")) {
                log("cost at rest of one agent process ...");
                Map<String, Object> rest = new RestBenchmark(zk, broker, out).run(
                        mode.pick(java.time.Duration.ofSeconds(60), java.time.Duration.ofSeconds(20), java.time.Duration.ofSeconds(1)),
                        mode.pick(java.time.Duration.ofMinutes(3), java.time.Duration.ofSeconds(60), java.time.Duration.ofSeconds(2)));
                results.put("rest", rest);
                FleetReport.rest(md, rest);
            }
            if (runs.test("flash")) {
                log("what the readings cost the card ...");
                Map<String, Object> flash = new FlashBenchmark(zk, broker, out).run(
                        mode.pick(java.time.Duration.ofSeconds(20), java.time.Duration.ofSeconds(10), java.time.Duration.ofSeconds(1)),
                        mode.pick(java.time.Duration.ofMinutes(2), java.time.Duration.ofSeconds(60), java.time.Duration.ofSeconds(3)));
                results.put("flash", flash);
                FleetReport.flash(md, flash);
            }
            if (runs.test("exporter")) {
                log("the fleet exporter by fleet size ...");
                Map<String, Object> exporter = new ExporterBenchmark(zk, out).run(sizes("bench.exporter.devices",
                        mode.pick(new int[] {1000, 5000}, new int[] {100, 1000}, new int[] {50})));
                results.put("exporter", exporter);
                FleetReport.exporter(md, exporter);
            }
            if (runs.test("fleetscale")) {
                int gateways = sizes("bench.fleetscale.gateways", mode.pick(new int[] {2000}, new int[] {500}, new int[] {20}))[0];
                FleetScaleBenchmark scale = new FleetScaleBenchmark(zk, out);
                Map<String, Object> fs = scale.run(gateways, mode == Mode.SMOKE ? 10 : 1000, mode.pick(60, 20, 3));
                // The same profile on real agents (-Dbench.fleetscale.agents=0 leaves it out).
                int agents = sizes("bench.fleetscale.agents", mode.pick(new int[] {200}, new int[] {50}, new int[] {5}))[0];
                if (agents > 0) fs.put("agents", scale.realAgents(broker, agents, mode.pick(60, 20, 3)));
                results.put("fleetscale", fs);
                FleetReport.fleetscale(md, fs);
            }
        }
        Files.writeString(out.resolve("results.json"), new String(Json.write(results)));
        Files.writeString(out.resolve("results.md"), md.toString());
        System.out.println();
        System.out.println(md);
        System.out.println("Written: " + out.resolve("results.md") + " and results.json");
        return results;
    }

    static String machine() {
        return Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ", Java " + Runtime.version();
    }

    /** The sizes a section runs: those of {@code property} (comma-separated) where given, else the mode's. */
    static int[] sizes(String property, int[] byMode) {
        String given = System.getProperty(property, "");
        if (given.isBlank()) return byMode;
        return java.util.Arrays.stream(given.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }

    /** A progress line, stamped with the JVM's uptime as gc.log stamps its pauses. */
    static void log(String s) {
        double uptime = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0;
        System.out.println("[bench " + String.format(java.util.Locale.ROOT, "%.3fs", uptime) + "] " + s);
    }
}
