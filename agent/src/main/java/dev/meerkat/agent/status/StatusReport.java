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
     * write error, if it has one now.
     */
    public record Delivery(long buffered, Instant oldestBufferedAt, long enqueued, long sent, long acknowledged,
                           Map<String, Map<String, Long>> dropped, Instant lastDroppedAt, String journalError) {
        public static final Delivery NONE = new Delivery(0, null, 0, 0, 0, Map.of(), null, null);
    }

    public Map<String, Object> toJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> c = configJson();
        root.put("config", c);
        Map<String, Object> s = new LinkedHashMap<>();
        sensors.forEach((id, v) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("state", v.state);
            m.put("lastReadingAt", v.lastReadingAt == null ? null : v.lastReadingAt.toString());
            m.put("errors", v.errors);
            if (v.lockSkips > 0) m.put("lockSkips", v.lockSkips);
            if (v.lastError != null) m.put("lastError", v.lastError);
            s.put(id, m);
        });
        root.put("sensors", s);
        Map<String, Object> mqtt = new LinkedHashMap<>();
        mqtt.put("connected", mqttConnected);
        mqtt.put("buffered", delivery.buffered());
        mqtt.put("oldestBufferedAt", delivery.oldestBufferedAt() == null ? null : delivery.oldestBufferedAt().toString());
        mqtt.put("enqueued", delivery.enqueued());
        mqtt.put("sent", delivery.sent());
        mqtt.put("acknowledged", delivery.acknowledged());
        mqtt.put("dropped", delivery.dropped());
        mqtt.put("lastDroppedAt", delivery.lastDroppedAt() == null ? null : delivery.lastDroppedAt().toString());
        mqtt.put("journalError", delivery.journalError());
        root.put("mqtt", mqtt);
        root.put("firmware", Map.of("running", firmware));
        return root;
    }

    /** What must change for the status to be rewritten. */
    public Map<String, Object> stable() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("config", configJson());
        Map<String, String> states = new LinkedHashMap<>();
        sensors.forEach((id, v) -> states.put(id, v.state));
        m.put("sensors", states);
        m.put("mqtt", mqttConnected);
        // Drops and journal errors are never silent: each change of them is written.
        m.put("dropped", delivery.dropped());
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
        for (ConfigError e : errors) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("znode", e.source());
            m.put("path", e.path());
            m.put("message", e.message());
            errs.add(m);
        }
        c.put("errors", errs);
        return c;
    }
}
