package dev.meerkat.agent.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.AgentSettings;
import dev.meerkat.config.ConfigError;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.config.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The status znode stays far below ZooKeeper's 1 MB limit whatever the number of sensors and errors. */
class StatusReportTest {
    @Test
    void fiveThousandFailingSensorsAndErrorsStayWellBelowTheLimitAndAreCounted() throws Exception {
        Map<String, StatusReport.Sensor> sensors = new LinkedHashMap<>();
        Map<String, Map<String, Long>> dropped = new TreeMap<>();
        for (int i = 0; i < 5000; i++) {
            String id = String.format("sensor-%05d", i);
            String state = i % 10 == 0 ? "ok" : "failing";
            sensors.put(id, new StatusReport.Sensor(state, Instant.EPOCH, 3, 0, state.equals("ok") ? null : "x".repeat(1000)));
            dropped.put(id, Map.of("maxBytes", 5L));
        }
        List<ConfigError> errors = new ArrayList<>();
        for (int i = 0; i < 5000; i++) errors.add(new ConfigError("/fleets/f/config/sensors/s" + i, "$.interval", "y".repeat(500)));
        StatusReport r = new StatusReport(new EffectiveConfig(AgentSettings.DEFAULTS, new TreeMap<>(), 3, -1, "sha256:x"), Instant.EPOCH,
                errors, sensors, true, new StatusReport.Delivery(0, null, 0, 0, 0, dropped, Instant.EPOCH, "z".repeat(5000), Map.of(), 0), "0.1.0");
        byte[] bytes = Json.write(r.toJson());
        assertTrue(bytes.length < 300_000, "the status is " + bytes.length + " bytes");
        JsonNode j = Json.tree(bytes);
        assertEquals(StatusReport.MAX_SENSORS, j.path("sensors").size());
        assertTrue(j.path("sensors").properties().stream().allMatch(e -> e.getValue().path("state").asText().equals("failing")),
                "those not ok are listed first");
        assertEquals(4500 - StatusReport.MAX_SENSORS, j.path("sensorsNotListed").path("failing").asLong());
        assertEquals(500, j.path("sensorsNotListed").path("ok").asLong());
        assertEquals(StatusReport.MAX_ERRORS, j.path("config").path("errors").size());
        assertEquals(5000 - StatusReport.MAX_ERRORS, j.path("config").path("errorsNotListed").asLong());
        assertEquals(StatusReport.MAX_DROPPED_SENSORS + 1, j.path("mqtt").path("dropped").size());
        assertEquals(5L * (5000 - StatusReport.MAX_DROPPED_SENSORS), j.path("mqtt").path("dropped").path(StatusReport.OTHERS).path("maxBytes").asLong(),
                "the drops of the sensors not listed are summed, none lost");
        assertTrue(j.path("mqtt").path("journalError").asText().length() <= StatusReport.MAX_TEXT + 3);
    }

    @Test
    void aFewSensorsAreListedAsTheyAre() throws Exception {
        StatusReport r = new StatusReport(new EffectiveConfig(AgentSettings.DEFAULTS, new TreeMap<>(), 3, -1, "sha256:x"), Instant.EPOCH,
                List.of(), Map.of("a", new StatusReport.Sensor("ok", Instant.EPOCH, 0, 0, null)), true, StatusReport.Delivery.NONE, "0.1.0");
        JsonNode j = Json.tree(Json.write(r.toJson()));
        assertEquals("ok", j.path("sensors").path("a").path("state").asText());
        assertTrue(j.path("sensorsNotListed").isMissingNode());
        assertTrue(j.path("config").path("errorsNotListed").isMissingNode());
    }
}
