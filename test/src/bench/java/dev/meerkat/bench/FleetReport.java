package dev.meerkat.bench;

import java.util.List;
import java.util.Map;

/** The fleet's and the footprint's tables in results.md. */
final class FleetReport {
    private FleetReport() {}

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v == null ? Map.of() : (Map<String, Object>) v;
    }

    static void markdown(StringBuilder md, int n, Map<String, Object> f) {
        Map<String, Object> reg = map(f, "registration"), fan = map(f, "config_fan_out"), ho = map(f, "leader_handover"),
                rd = map(f, "readings"), faults = map(f, "faults"), checks = map(f, "checks");
        Map<String, Object> applied = map(fan, "agents_applied"), notified = map(fan, "raw_notified"), read = map(fan, "raw_notified_and_read");
        md.append("\n## Fleet of ").append(n).append(" agents in one JVM (each its own session, MQTT connection, journal and sensor)\n\n")
                .append("| measure | Meerkat | raw baseline | ratio |\n|---|---|---|---|\n")
                .append("| registration of all, ms (raw: connect + ephemeral create) | ").append(reg.get("agents_all_registered_ms"))
                .append(" | ").append(reg.get("raw_all_created_ms")).append(" | ").append(reg.get("ratio_to_raw")).append(" |\n")
                .append("| config fan-out to applied, p50 / p99 / max ms (raw: notified; notified + read) | ")
                .append(applied.get("p50_ms")).append(" / ").append(applied.get("p99_ms")).append(" / ").append(applied.get("max_ms"))
                .append(" | ").append(notified.get("p50_ms")).append(" / ").append(notified.get("p99_ms")).append(" / ").append(notified.get("max_ms"))
                .append("; ").append(read.get("p50_ms")).append(" / ").append(read.get("p99_ms")).append(" / ").append(read.get("max_ms"))
                .append(" | p99 ").append(fan.get("p99_ratio_to_raw_notified")).append("; ").append(fan.get("p99_ratio_to_raw_read")).append(" |\n")
                .append("| leader handover, clean stop, median of three, ms | ").append(ho.get("clean_ms")).append(" | ").append(ho.get("raw_clean_ms"))
                .append(" | ").append(ho.get("clean_ratio_to_raw")).append(" |\n")
                .append("| leader handover, kill -9, ms (session timeout ").append(ho.get("session_timeout_ms")).append(" ms) | ")
                .append(ho.getOrDefault("crash_ms", "not measured")).append(" | ").append(ho.get("raw_crash_ms")).append(" | ")
                .append(ho.getOrDefault("crash_ratio_to_raw", "")).append(" |\n")
                .append("| readings delivered/s (").append(rd.get("sensors")).append(" sensors at 1 Hz) | ").append(rd.get("delivered_per_s"))
                .append(" | ").append(rd.get("expected_per_s")).append(" sampled | |\n")
                .append("| sample to subscriber, p50 / p99 / max ms | ").append(map(rd, "sample_to_subscriber").get("p50_ms")).append(" / ")
                .append(map(rd, "sample_to_subscriber").get("p99_ms")).append(" / ").append(map(rd, "sample_to_subscriber").get("max_ms"))
                .append(" | | |\n\n")
                .append("The agents' JVM at rest: ").append(rd.get("jvm_cpu_cores")).append(" cores, ")
                .append(rd.get("cpu_percent_of_a_core_per_agent")).append("% of a core per agent. ")
                .append("Threads per agent: ").append(reg.get("threads_per_agent")).append("; heap per agent: ")
                .append(reg.get("heap_per_agent_kib")).append(" KiB; all ").append(n).append(" started in ")
                .append(reg.get("agents_all_started_ms")).append(" ms.\n\n")
                .append("| fault | recovered in | details |\n|---|---|---|\n");
        for (String k : List.of("zookeeper_follower_killed", "zookeeper_leader_killed", "zookeeper_ensemble_restarted")) {
            Map<String, Object> x = map(faults, k);
            md.append("| ").append(k.replace('_', ' ')).append(" | ").append(x.get("recovered_ms")).append(" ms from the kill | killed ")
                    .append(x.get("killed")).append(", agents disconnected ").append(x.get("agents_disconnected")).append(", members after ")
                    .append(x.get("members")).append(x.containsKey("servers_serving_ms") ? ", all servers serving again after " + x.get("servers_serving_ms") + " ms" : "").append(" |\n");
        }
        Map<String, Object> b = map(faults, "broker_restarted"), e = map(faults, "session_expiry_burst");
        md.append("| broker restarted | ").append(b.get("drained_after_broker_back_ms")).append(" ms from the broker's return to every backlog sent | down ")
                .append(b.get("outage_ms")).append(" ms, ").append(b.get("buffered_during_outage")).append(" readings buffered |\n")
                .append("| burst of session expiries | ").append(e.get("recovered_ms")).append(" ms to the last registered again | ")
                .append(e.get("sessions_expired")).append(" sessions (agents and lock holders); registered again p50/p99 ")
                .append(map(e, "registered_again").get("p50_ms")).append(" / ").append(map(e, "registered_again").get("p99_ms")).append(" ms |\n\n")
                .append("Checks: ").append(checks.get("readings_sent")).append(" readings sent, every seq received: ")
                .append(Integer.valueOf(0).equals(checks.get("streams_with_gaps")) ? "yes" : "NO (" + checks.get("streams_with_gaps") + " streams with gaps)")
                .append("; duplicates ").append(checks.get("duplicates")).append("; dropped ").append(checks.get("dropped"))
                .append("; members ").append(checks.get("members")).append("; lock holds ").append(checks.get("lock_holds"))
                .append(", overlapping ").append(checks.get("overlapping_holds")).append(". Failures: ").append(f.get("failures")).append("\n");
    }

    static void footprint(StringBuilder md, Map<String, Object> fp) {
        md.append("\n## Footprint of one agent process (launcher, shipped JVM options, ").append(fp.get("sensors"))
                .append(" simulated sensors at 1 Hz)\n\n")
                .append("| run | start to registered (ms) | start to first reading (ms) | RSS after ").append(fp.get("settle_s"))
                .append(" s (MiB) | peak RSS (MiB) | CPU, % of a core |\n|---|---|---|---|---|---|\n");
        for (String k : List.of("without_archive", "making_archive", "with_archive")) {
            Map<String, Object> r = map(fp, k);
            md.append("| ").append(k.replace('_', ' ')).append(" | ").append(r.get("start_to_registered_ms")).append(" | ")
                    .append(r.get("start_to_first_reading_ms")).append(" | ").append(r.get("rss_mib")).append(" | ")
                    .append(r.get("rss_peak_mib")).append(" | ").append(r.get("cpu_percent_of_a_core")).append(" |\n");
        }
        md.append("\nJVM options: ").append(fp.get("jvm_options")).append(". Jar set: ").append(fp.get("jars")).append(" jars, ").append(fp.get("jar_set_mib")).append(" MiB. Archive: ")
                .append(fp.get("archive_files")).append(".\n");
    }

    static void rest(StringBuilder md, Map<String, Object> rest) {
        md.append("\n## Cost at rest (one agent process, ").append(rest.get("sensors")).append(" simulated sensors at 1 Hz, ")
                .append(rest.get("window_s")).append(" s after ").append(rest.get("settle_s")).append(" s)\n\n")
                .append("| process | threads | wake-ups/s | CPU, % of a core | RSS (MiB) | wake-ups per reading |\n|---|---|---|---|---|---|\n");
        for (String k : List.of("agent", "agent_metrics", "agent_batched", "empty_jvm")) {
            Map<String, Object> r = map(rest, k);
            md.append("| ").append(k.replace('_', ' ')).append(" | ").append(r.get("threads")).append(" | ")
                    .append(r.get("wakeups_per_s")).append(" | ").append(r.get("cpu_percent_of_a_core")).append(" | ")
                    .append(r.get("rss_mib")).append(" | ").append(r.getOrDefault("wakeups_per_reading", "")).append(" |\n");
        }
        md.append("\nAgent wake-ups a second by thread: ").append(map(rest, "agent").get("wakeups_per_s_by_thread"))
                .append(".\nClasses loaded: ").append(map(rest, "agent").get("classes_loaded")).append(" without metrics (")
                .append(map(rest, "agent").get("prometheus_classes_loaded")).append(" of the Prometheus client), ")
                .append(map(rest, "agent_metrics").get("classes_loaded")).append(" with (").append(map(rest, "agent_metrics").get("prometheus_classes_loaded"))
                .append("; scraped ").append(map(rest, "agent_metrics").get("scrapes")).append(" times)")
                .append(".\nBatched (").append(RestBenchmark.BATCHED).append("): ").append(map(rest, "agent_batched").get("wakeups_per_s_by_thread"))
                .append(".\nEmpty JVM (").append(map(rest, "empty_jvm").get("jvm_options")).append("): ")
                .append(map(rest, "empty_jvm").get("wakeups_per_s_by_thread")).append(".\n");
    }

    static void flash(StringBuilder md, Map<String, Object> flash) {
        md.append("\n## What the readings cost the card (one agent, ").append(flash.get("sensors")).append(" simulated sensors, ")
                .append(flash.get("window_s")).append(" s after ").append(flash.get("settle_s")).append(" s)\n\n")
                .append("| case | readings | payload B/reading | process bytes/reading | process x payload | process MiB/day | device bytes/reading | device x payload | device MiB/day |\n")
                .append("|---|---|---|---|---|---|---|---|---|\n");
        for (FlashBenchmark.Case c : FlashBenchmark.CASES) {
            Map<String, Object> r = map(flash, c.name());
            md.append("| ").append(c.name()).append(" | ").append(r.get("readings_delivered")).append(" | ").append(r.get("payload_bytes_per_reading"))
                    .append(" | ").append(r.get("process_bytes_per_reading")).append(" | ").append(r.get("process_x_payload"))
                    .append(" | ").append(r.get("process_mib_per_day")).append(" | ").append(r.getOrDefault("device_bytes_per_reading", "-"))
                    .append(" | ").append(r.getOrDefault("device_x_payload", "-")).append(" | ").append(r.getOrDefault("device_mib_per_day", "-"))
                    .append(" |\n");
        }
        md.append("\nFile system: ").append(map(flash, FlashBenchmark.CASES.get(0).name()).get("file_system")).append(".\n");
    }

    static void exporter(StringBuilder md, Map<String, Object> exporter) {
        md.append("\n## The fleet exporter (one fleet of N devices, member and status znodes of the agent's shape)\n\n")
                .append("| devices | first complete scrape (s) | scrape (ms) | scrape (KiB) | RSS (MiB) | server watches added |\n|---|---|---|---|---|---|\n");
        exporter.forEach((n, v) -> {
            Map<String, Object> r = map(exporter, n);
            md.append("| ").append(n).append(" | ").append(r.get("first_complete_scrape_s")).append(" | ").append(r.get("scrape_ms"))
                    .append(" | ").append(r.get("scrape_kib")).append(" | ").append(r.get("rss_mib")).append(" | ")
                    .append(r.get("server_watches_added")).append(" |\n");
        });
    }

    static void fleetscale(StringBuilder md, Map<String, Object> fs) {
        md.append("\n## Fleet scale: ").append(fs.get("gateways")).append(" agent-shaped sessions in ").append(fs.get("client_jvms"))
                .append(" client JVMs, 3 server JVMs, before and after issue 27\n\n")
                .append("| | before | after |\n|---|---|---|\n");
        Map<String, Object> b = map(fs, "before"), a = map(fs, "after");
        for (String[] row : new String[][] {
                {"start_s", "all registered, applied, written, election whole (s)"},
                {"rest_requests_per_gateway_s", "at rest: requests per gateway per second"},
                {"rest_watches_per_gateway", "at rest: watches per gateway"},
                {"rest_ephemerals_per_gateway", "at rest: ephemeral znodes per gateway"},
                {"rest_server_writes", "at rest: writes in the window"},
                {"burst_writes_first_s", "fleet-wide change: writes in its first second"},
                {"burst_status_written_first_s", "fleet-wide change: status znodes written in its first second"},
                {"burst_writes_peak_s", "fleet-wide change: writes in its busiest second"},
                {"burst_status_written_peak_s", "fleet-wide change: status writes completed in their busiest second (the agents' clocks)"},
                {"burst_written_within_1s_of_apply", "fleet-wide change: share of agents writing their status within 1 s of applying it"},
                {"burst_writes_all", "fleet-wide change: writes until every status was written"},
                {"burst_all_applied_s", "fleet-wide change: every agent applied it (s)"},
                {"burst_all_written_s", "fleet-wide change: every status written (s)"},
                {"kill_all_back_s", "leader kill: every session back and the election whole (s)"},
                {"kill_connected_at_end", "leader kill: sessions connected at the end"},
                {"kill_reconnect_p50_s", "leader kill: reconnected p50 (s)"},
                {"kill_reconnect_p99_s", "leader kill: reconnected p99 (s)"},
                {"kill_expiries", "leader kill: sessions expired"},
                {"kill_server_bytes", "leader kill: bytes the two surviving servers wrote until then"},
                {"kill_election_lists", "leader kill: lists of the election the clients got"},
                {"kill_election_list_names", "leader kill: names in those lists (about 58 bytes of reply each)"}}) {
            if (b.get(row[0]) == null && a.get(row[0]) == null) continue; // not measured (the leader kill left out)
            md.append("| ").append(row[1]).append(" | ").append(b.get(row[0])).append(" | ").append(a.get(row[0])).append(" |\n");
        }
        md.append("\nFirst-second writes, after / before: ").append(fs.get("first_second_writes_after_over_before"))
                .append("; busiest-second writes, after / before: ").append(fs.get("peak_second_writes_after_over_before"))
                .append("; server bytes during the reconnect, after / before: ").append(fs.get("reconnect_server_bytes_after_over_before")).append(".\n");
        if (fs.get("agents") instanceof Map<?, ?>) {
            Map<String, Object> r = map(fs, "agents");
            md.append("\nThe same profile on ").append(r.get("agents")).append(" real agents in one JVM (a simulated sensor at 1 Hz each, MQTT), beside the shaped sessions after:\n\n")
                    .append("| | shaped, after | real agents |\n|---|---|---|\n");
            Object shapedWrites = a.get("burst_writes_all") instanceof Number w ? Stats.round(w.doubleValue() / ((Number) fs.get("gateways")).doubleValue()) : null;
            for (String[] row : new String[][] {
                    {"rest_requests_per_gateway_s", "at rest: requests per gateway per second"},
                    {"rest_watches_per_gateway", "at rest: watches per gateway"},
                    {"rest_ephemerals_per_gateway", "at rest: ephemeral znodes per gateway"},
                    {"rest_server_writes", "at rest: writes in the window"}}) {
                md.append("| ").append(row[1]).append(" | ").append(a.get(row[0])).append(" | ").append(r.get(row[0])).append(" |\n");
            }
            md.append("| fleet-wide change: writes per gateway | ").append(shapedWrites).append(" | ").append(r.get("change_writes_per_gateway")).append(" |\n");
        }
    }
}
