package dev.meerkat.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The benchmark harness, every section, at its smallest (a fleet of 5 agents, a footprint run of
 * 10 s): so that it keeps working as the code changes. Figures are not checked here (benchmarks
 * measure, tests do not time); the fleet's own checks (nothing lost, every member back, no
 * overlapping holds) are.
 */
class BenchmarkSmokeTest {

    @Test
    @SuppressWarnings("unchecked")
    void everySectionRunsAndTheFleetLosesNothing() throws Exception {
        Path out = Path.of(System.getProperty("meerkat.work", "target/work")).resolve("bench-smoke");
        Map<String, Object> results = Benchmarks.run(out, Benchmarks.Mode.SMOKE, Set.of("all"));

        for (String section : List.of("zookeeper_crud", "zookeeper_watch", "config_fan_out", "registration", "locks",
                "paho_qos1_throughput_window1000", "bridge", "fleet", "footprint", "rest", "flash", "exporter", "fleetscale")) {
            assertTrue(results.containsKey(section), "section " + section + " missing from " + results.keySet());
        }
        Map<String, Object> bridge = (Map<String, Object>) results.get("bridge");
        for (Map<String, Object> run : (List<Map<String, Object>>) bridge.get("sparkplug_b")) {
            assertEquals(((Number) run.get("readings")).longValue(), ((Number) run.get("sent")).longValue(), "every reading went out as Sparkplug DDATA: " + run);
        }
        Map<String, Object> fleet = (Map<String, Object>) ((Map<String, Object>) results.get("fleet")).get("5");
        assertEquals(List.of(), fleet.get("failures"), "the fleet's checks");
        Map<String, Object> checks = (Map<String, Object>) fleet.get("checks");
        assertEquals(0, checks.get("streams_with_gaps"));
        assertEquals(0L, checks.get("dropped"));
        assertEquals(0, checks.get("overlapping_holds"));
        assertTrue(((Number) checks.get("readings_sent")).longValue() > 0, "readings were sent: " + checks);
        assertTrue(((Number) checks.get("lock_holds")).longValue() > 0, "locks were held: " + checks);
        Map<String, Object> faults = (Map<String, Object>) fleet.get("faults");
        assertEquals(Set.of("zookeeper_follower_killed", "zookeeper_leader_killed", "zookeeper_ensemble_restarted",
                "broker_restarted", "session_expiry_burst"), faults.keySet());

        Map<String, Object> footprint = (Map<String, Object>) results.get("footprint");
        for (String run : List.of("without_archive", "making_archive", "with_archive")) {
            Map<String, Object> r = (Map<String, Object>) footprint.get(run);
            assertEquals(0, r.get("exit"), run + " stopped cleanly: " + r);
            assertTrue(((Number) r.get("rss_mib")).doubleValue() > 0, run + ": " + r);
        }
        Map<String, Object> rest = (Map<String, Object>) results.get("rest");
        Map<String, Object> agent = (Map<String, Object>) rest.get("agent");
        assertEquals(0, agent.get("exit"), "the agent stopped cleanly: " + agent);
        assertTrue(((Number) agent.get("threads")).intValue() > 0 && ((Number) agent.get("readings_delivered")).longValue() > 0, "rest: " + agent);
        assertEquals(0L, agent.get("prometheus_classes_loaded"), "without metrics.listen the Prometheus client is not loaded: " + agent);
        Map<String, Object> metrics = (Map<String, Object>) rest.get("agent_metrics");
        assertEquals(0, metrics.get("exit"), "the agent with metrics stopped cleanly: " + metrics);
        assertTrue(((Number) metrics.get("prometheus_classes_loaded")).longValue() > 0 && ((Number) metrics.get("scrapes")).intValue() > 0,
                "rest, metrics on: " + metrics);
        Map<String, Object> batched = (Map<String, Object>) rest.get("agent_batched");
        assertEquals(0, batched.get("exit"), "the batched agent stopped cleanly: " + batched);
        assertTrue(((Number) batched.get("readings_delivered")).longValue() > 0, "rest, batched: " + batched);
        assertTrue(((Number) ((Map<String, Object>) rest.get("empty_jvm")).get("threads")).intValue() > 0, "rest: " + rest);
        Map<String, Object> exporter = (Map<String, Object>) ((Map<String, Object>) results.get("exporter")).get("50");
        assertEquals(0, exporter.get("exit"), "the exporter stopped cleanly: " + exporter);
        Map<String, Object> flash = (Map<String, Object>) results.get("flash");
        for (FlashBenchmark.Case c : FlashBenchmark.CASES) {
            Map<String, Object> r = (Map<String, Object>) flash.get(c.name());
            assertTrue(((Number) r.get("readings_delivered")).longValue() > 0 && r.get("process_bytes") instanceof Number, "flash: " + r);
            assertEquals(0, r.get("exit"), "flash: " + r);
        }
        Map<String, Object> fs = (Map<String, Object>) results.get("fleetscale");
        Map<String, Object> fsBefore = (Map<String, Object>) fs.get("before"), fsAfter = (Map<String, Object>) fs.get("after");
        // 20 gateways: each a member, and before each a latch too; after, 5 slots and 5 latches among them.
        assertTrue(((Number) fsAfter.get("rest_ephemerals_per_gateway")).doubleValue() < ((Number) fsBefore.get("rest_ephemerals_per_gateway")).doubleValue(),
                "fewer election znodes with bounded candidates: " + fs);
        assertTrue(((Number) fsAfter.get("burst_writes_all")).longValue() >= 20, "every status written after the change: " + fs);
        // Bounded candidates: fewer names listed in the election at the leader kill than before (20 stand).
        assertTrue(((Number) fsAfter.get("kill_election_list_names")).longValue() < ((Number) fsBefore.get("kill_election_list_names")).longValue(),
                "the election's churn at a leader kill bounded by the candidates: " + fs);
        Map<String, Object> real = (Map<String, Object>) fs.get("agents");
        assertTrue(((Number) real.get("change_writes_per_gateway")).doubleValue() >= 1, "each real agent wrote its status after the change: " + real);
        assertTrue(Files.readString(out.resolve("results.md")).contains("## Fleet of 5 agents"));
        assertTrue(Files.exists(out.resolve("results.json")));
    }
}
