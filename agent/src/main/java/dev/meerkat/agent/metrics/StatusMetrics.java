package dev.meerkat.agent.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The agent's series, read at each scrape from what {@code meerkat status} shows (the same map):
 * one source of truth, no second count. Names follow Prometheus practice: one {@code meerkat_}
 * prefix, base units, {@code _total} for counters (added by the exposition), labels only of
 * bounded sets (sensor and lock ids of the config, drop reasons, config layers).
 */
final class StatusMetrics implements MultiCollector {
    private final Supplier<Map<String, Object>> status;
    private final Clock clock;

    StatusMetrics(Supplier<Map<String, Object>> status, Clock clock) {
        this.status = status;
        this.clock = clock;
    }

    @Override
    public MetricSnapshots collect() {
        Map<String, Object> s = status.get();
        List<MetricSnapshot> out = new ArrayList<>();
        out.add(info("meerkat_build", "The agent's version.", "version", text(s.get("agentVersion"))));
        Map<String, Object> zk = map(s.get("zookeeper")), leader = map(s.get("leader")), mqtt = map(s.get("mqtt"));
        out.add(gauge("meerkat_zookeeper_connected", "1 while the ZooKeeper session is connected.", flag(zk.get("connected"))));
        out.add(gauge("meerkat_registered", "1 while the gateway's member znode is there and its own.", flag(zk.get("registered"))));
        out.add(gauge("meerkat_leader", "1 while this agent leads its fleet.", flag(leader.get("leading"))));
        out.add(gauge("meerkat_mqtt_connected", "1 while the MQTT connection is up.", flag(mqtt.get("connected"))));
        out.add(gauge("meerkat_buffer_readings", "Readings in the journal not yet acknowledged by the broker.", number(mqtt.get("buffered"))));
        out.add(gauge("meerkat_buffer_bytes", "The journal's bytes on disk (acknowledged segments not yet deleted included).",
                number(mqtt.get("bufferBytes"))));
        Object oldest = mqtt.get("oldestBufferedAt");
        double age = oldest == null ? 0 : Math.max(0, (clock.millis() - Instant.parse(oldest.toString()).toEpochMilli()) / 1000.0);
        out.add(gauge("meerkat_buffer_oldest_age_seconds", "Age of the oldest reading not yet acknowledged (0 when none waits).", age));
        CounterSnapshot.Builder enqueued = CounterSnapshot.builder().name("meerkat_readings_enqueued")
                .help("Readings put into the journal since the agent started (those found waiting at the start included), by sensor.");
        CounterSnapshot.Builder acknowledged = CounterSnapshot.builder().name("meerkat_readings_acknowledged")
                .help("Readings the broker acknowledged since the agent started, by sensor.");
        map(mqtt.get("bySensor")).forEach((sensor, v) -> {
            Labels l = Labels.of("sensor", sensor);
            enqueued.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(l).value(number(map(v).get("enqueued"))).build());
            acknowledged.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(l).value(number(map(v).get("acknowledged"))).build());
        });
        out.add(enqueued.build());
        out.add(acknowledged.build());
        out.add(counter("meerkat_readings_sent", "Readings sent to the broker since the agent started.", number(mqtt.get("sent"))));
        CounterSnapshot.Builder dropped = CounterSnapshot.builder().name("meerkat_readings_dropped")
                .help("Readings dropped, by sensor and reason (kept across restarts).");
        map(mqtt.get("dropped")).forEach((sensor, reasons) -> map(reasons).forEach((reason, n) -> dropped.dataPoint(
                CounterSnapshot.CounterDataPointSnapshot.builder().labels(Labels.of("sensor", sensor, "reason", reason)).value(number(n)).build())));
        out.add(dropped.build());
        sensors(map(s.get("sensors")), out);
        config(map(s.get("config")), out);
        Map<String, Object> locks = map(s.get("locks"));
        out.add(counter("meerkat_lock_holds", "Holds of shared-hardware locks taken since the agent started.", number(locks.get("acquired"))));
        out.add(counter("meerkat_lock_timeouts", "Waits for a shared-hardware lock that ran out.", number(locks.get("timedOut"))));
        out.add(gauge("meerkat_locks_held", "Shared-hardware locks held now.", map(locks.get("held")).size()));
        Object firmware = map(s.get("firmware")).get("running");
        if (firmware != null) out.add(info("meerkat_firmware", "The firmware this gateway runs.", "version", firmware.toString()));
        return new MetricSnapshots(out);
    }

    private static void sensors(Map<String, Object> sensors, List<MetricSnapshot> out) {
        GaugeSnapshot.Builder up = GaugeSnapshot.builder().name("meerkat_sensor_up").help("1 while the sensor reads (state ok).");
        CounterSnapshot.Builder errors = CounterSnapshot.builder().name("meerkat_sensor_read_errors").help("Failed reads, by sensor.");
        CounterSnapshot.Builder skips = CounterSnapshot.builder().name("meerkat_lock_skips")
                .help("Reads skipped because the sensor's lock could not be had, by sensor.");
        sensors.forEach((id, v) -> {
            Map<String, Object> sensor = map(v);
            Labels l = Labels.of("sensor", id);
            up.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(l).value("ok".equals(sensor.get("state")) ? 1 : 0).build());
            errors.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(l).value(number(sensor.get("errors"))).build());
            skips.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(l).value(number(sensor.get("lockSkips"))).build());
        });
        out.add(up.build());
        out.add(errors.build());
        out.add(skips.build());
    }

    private static void config(Map<String, Object> config, List<MetricSnapshot> out) {
        Object errors = config.get("errors");
        double n = (errors instanceof List<?> l ? l.size() : 0) + number(config.get("errorsNotListed"));
        out.add(gauge("meerkat_config_errors", "Config documents rejected now (the last good config keeps running).", n));
        GaugeSnapshot.Builder versions = GaugeSnapshot.builder().name("meerkat_config_applied_version")
                .help("The version of each config layer applied (-1: none).");
        for (String layer : List.of("fleet", "device")) {
            Object v = config.get(layer + "Version");
            if (v != null) versions.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(Labels.of("layer", layer)).value(number(v)).build());
        }
        out.add(versions.build());
    }

    static GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help).dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).build()).build();
    }

    static CounterSnapshot counter(String name, String help, double value) {
        return CounterSnapshot.builder().name(name).help(help)
                .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(value).build()).build();
    }

    static InfoSnapshot info(String name, String help, String label, String value) {
        return InfoSnapshot.builder().name(name).help(help)
                .dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder().labels(Labels.of(label, value)).build()).build();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static double number(Object o) {
        return o instanceof Number n ? n.doubleValue() : 0;
    }

    private static double flag(Object o) {
        return Boolean.TRUE.equals(o) ? 1 : 0;
    }

    private static String text(Object o) {
        return o == null ? "" : o.toString();
    }
}
