package dev.meerkat.agent.status;

import dev.meerkat.config.ConfigError;
import dev.meerkat.config.EffectiveConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The content of {@code /fleets/F/devices/D/status} (SPEC §5). {@link #stable()} is the part whose
 * change warrants a write (applied config, errors, sensor states, MQTT connected, readings dropped,
 * a journal error); reading times, buffer depth and counters are written as they are at that
 * moment, and do not cause a write on their own.
 */
public record StatusReport(EffectiveConfig config, Instant appliedAt, List<ConfigError> errors,
                           Map<String, Sensor> sensors, boolean mqttConnected, Delivery delivery, String firmware) {
    /**
     * The bounds that keep the status znode far below ZooKeeper's 1 MB limit whatever the number of
     * sensors and errors (about 200 KB at most): at most this many sensors listed (those not ok
     * first), config errors listed and sensors in the drop counts (the rest summed under
     * {@link #OTHERS}), and texts cut at {@link #MAX_TEXT} characters. What is left out is counted
     * ({@code sensorsNotListed}, {@code errorsNotListed}).
     */
    public static final int MAX_SENSORS = 500, MAX_ERRORS = 100, MAX_DROPPED_SENSORS = 500, MAX_TEXT = 200;
    /** Where the drop counts of the sensors past {@link #MAX_DROPPED_SENSORS} are summed. */
    public static final String OTHERS = "(others)";

    static String cut(String s) {
        return s == null || s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT) + "...";
    }

    /** The sensors listed: all when few, else those not ok first, in name order, up to {@link #MAX_SENSORS}. */
    private Map<String, Sensor> listedSensors() {
        if (sensors.size() <= MAX_SENSORS) return sensors;
        Map<String, Sensor> out = new LinkedHashMap<>();
        sensors.forEach((id, v) -> {
            if (out.size() < MAX_SENSORS && !"ok".equals(v.state)) out.put(id, v);
        });
        sensors.forEach((id, v) -> {
            if (out.size() < MAX_SENSORS && "ok".equals(v.state)) out.put(id, v);
        });
        return out;
    }

    /** The sensors not listed, counted by state. */
    private Map<String, Long> notListed(Map<String, Sensor> listed) {
        Map<String, Long> counts = new java.util.TreeMap<>();
        sensors.forEach((id, v) -> {
            if (!listed.containsKey(id)) counts.merge(v.state, 1L, Long::sum);
        });
        return counts;
    }

    static Map<String, Map<String, Long>> boundedDrops(Map<String, Map<String, Long>> dropped) {
        if (dropped.size() <= MAX_DROPPED_SENSORS) return dropped;
        Map<String, Map<String, Long>> out = new LinkedHashMap<>();
        Map<String, Long> others = new java.util.TreeMap<>();
        dropped.forEach((sensor, byReason) -> {
            if (out.size() < MAX_DROPPED_SENSORS) out.put(sensor, byReason);
            else byReason.forEach((reason, n) -> others.merge(reason, n, Long::sum));
        });
        out.put(OTHERS, others);
        return out;
    }

    /**
     * A sensor's state, its last reading's time, its read errors, the readings skipped because its
     * lock could not be had, and its last error (null after a good reading). Only the state makes
     * the status be rewritten; the counts are as of the last write.
     */
    public record Sensor(String state, Instant lastReadingAt, long errors, long lockSkips, String lastError) {}

    /**
     * The MQTT bridge's accounting: readings buffered (not yet acknowledged) and the sample time of
     * the oldest; readings enqueued (into the journal), sent, acknowledged; dropped, per sensor and
     * reason ({@code maxBytes}, {@code maxAge}, {@code full}, {@code writeError}, {@code diskFull},
     * {@code recovery}), kept across restarts, and when the last was dropped; the journal's last
     * write error, if it has one now; each sensor whose seq jumped at this start (after a power cut
     * or damage), with the seqs not used and why; the journal's bytes on disk.
     */
    public record Delivery(long buffered, Instant oldestBufferedAt, long enqueued, long sent, long acknowledged,
                           Map<String, Map<String, Long>> dropped, Instant lastDroppedAt, String journalError, Map<String, String> seqGaps,
                           long bufferBytes) {
        public static final Delivery NONE = new Delivery(0, null, 0, 0, 0, Map.of(), null, null, Map.of(), 0);
    }

    public Map<String, Object> toJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> c = configJson();
        root.put("config", c);
        Map<String, Object> s = new LinkedHashMap<>();
        Map<String, Sensor> listed = listedSensors();
        listed.forEach((id, v) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("state", v.state);
            m.put("lastReadingAt", v.lastReadingAt == null ? null : v.lastReadingAt.toString());
            m.put("errors", v.errors);
            if (v.lockSkips > 0) m.put("lockSkips", v.lockSkips);
            if (v.lastError != null) m.put("lastError", cut(v.lastError));
            s.put(id, m);
        });
        root.put("sensors", s);
        if (listed.size() < sensors.size()) root.put("sensorsNotListed", notListed(listed));
        Map<String, Object> mqtt = new LinkedHashMap<>();
        mqtt.put("connected", mqttConnected);
        mqtt.put("buffered", delivery.buffered());
        mqtt.put("bufferBytes", delivery.bufferBytes());
        mqtt.put("oldestBufferedAt", delivery.oldestBufferedAt() == null ? null : delivery.oldestBufferedAt().toString());
        mqtt.put("enqueued", delivery.enqueued());
        mqtt.put("sent", delivery.sent());
        mqtt.put("acknowledged", delivery.acknowledged());
        mqtt.put("dropped", boundedDrops(delivery.dropped()));
        mqtt.put("lastDroppedAt", delivery.lastDroppedAt() == null ? null : delivery.lastDroppedAt().toString());
        mqtt.put("journalError", cut(delivery.journalError()));
        if (!delivery.seqGaps().isEmpty()) {
            Map<String, String> gaps = new java.util.TreeMap<>();
            delivery.seqGaps().forEach((sensor, why) -> gaps.put(sensor, cut(why)));
            mqtt.put("seqGaps", gaps);
        }
        root.put("mqtt", mqtt);
        root.put("firmware", Map.of("running", firmware));
        return root;
    }

    /** What must change for the status to be rewritten. */
    public Map<String, Object> stable() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("config", configJson());
        Map<String, String> states = new LinkedHashMap<>();
        listedSensors().forEach((id, v) -> states.put(id, v.state));
        m.put("sensors", states);
        m.put("sensorStates", notListed(Map.of()));
        m.put("mqtt", mqttConnected);
        // Drops and journal errors are never silent: each change of them is written.
        m.put("dropped", boundedDrops(delivery.dropped()));
        m.put("journalError", delivery.journalError());
        return m;
    }

    /**
     * The part of {@link #stable()} an operator must see at once (StatusReporter writes a change of it
     * within half a second): the config errors, the sensors failing or failed, which sensors have
     * dropped readings for which reason (not how many), and a journal error. The rest (versions
     * applied, sensors starting or ok, MQTT connected, drop counts growing) is what a fleet-wide
     * change or outage moves on every gateway at once, and is written spread over a window.
     */
    public Map<String, Object> problems() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("errors", configJson().get("errors"));
        m.put("errorsNotListed", errors.size());
        Map<String, String> failing = new java.util.TreeMap<>();
        sensors.forEach((id, v) -> {
            if (!"ok".equals(v.state) && !"starting".equals(v.state)) failing.put(id, v.state);
        });
        m.put("failing", failing.size() <= MAX_SENSORS ? failing : failing.size());
        Map<String, java.util.Set<String>> dropping = new java.util.TreeMap<>();
        boundedDrops(delivery.dropped()).forEach((sensor, byReason) -> dropping.put(sensor, new java.util.TreeSet<>(byReason.keySet())));
        m.put("dropping", dropping);
        m.put("journalError", delivery.journalError());
        return m;
    }

    private Map<String, Object> configJson() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("fleetVersion", config.fleetVersion());
        c.put("deviceVersion", config.deviceVersion());
        c.put("digest", config.digest());
        c.put("appliedAt", appliedAt.toString());
        List<Map<String, String>> errs = new ArrayList<>();
        for (ConfigError e : errors.subList(0, Math.min(errors.size(), MAX_ERRORS))) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("znode", cut(e.source()));
            m.put("path", cut(e.path()));
            m.put("message", cut(e.message()));
            errs.add(m);
        }
        c.put("errors", errs);
        if (errors.size() > MAX_ERRORS) c.put("errorsNotListed", errors.size() - MAX_ERRORS);
        return c;
    }
}
