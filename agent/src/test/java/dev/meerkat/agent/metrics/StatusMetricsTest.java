package dev.meerkat.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The series, from a status as {@code meerkat status} shows it, in Prometheus's text format. */
class StatusMetricsTest {
    static final Map<String, Object> STATUS = Map.of(
            "agentVersion", "0.1.0",
            "zookeeper", Map.of("connected", true, "registered", true),
            "leader", Map.of("leading", false),
            "locks", Map.of("held", Map.of("site-7/i2c-1/0x76", 12L), "acquired", 40L, "timedOut", 2L),
            "config", Map.of("fleetVersion", 12, "deviceVersion", -1, "errors", List.of(Map.of("znode", "/x", "path", "$.a", "message", "m"))),
            "sensors", Map.of("a", Map.of("state", "ok", "errors", 0L), "b", Map.of("state", "failing", "errors", 7L, "lockSkips", 3L)),
            "mqtt", Map.of("connected", false, "buffered", 17L, "bufferBytes", 4096L, "oldestBufferedAt", "2026-12-06T11:59:30Z", "enqueued", 100L,
                    "sent", 90L, "acknowledged", 83L, "dropped", Map.of("a", Map.of("maxBytes", 5L)),
                    "bySensor", Map.of("a", Map.of("enqueued", 60L, "acknowledged", 50L), "b", Map.of("enqueued", 40L, "acknowledged", 33L))),
            "firmware", Map.of("running", "1.2.3"));

    static String scrape(Map<String, Object> status) throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new StatusMetrics(() -> status, Clock.fixed(Instant.parse("2026-12-06T12:00:00Z"), ZoneOffset.UTC)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void everyFigureIsTheStatusOne() throws Exception {
        String text = scrape(STATUS);
        for (String line : List.of(
                "meerkat_build_info{version=\"0.1.0\"} 1",
                "meerkat_zookeeper_connected 1.0",
                "meerkat_registered 1.0",
                "meerkat_leader 0.0",
                "meerkat_mqtt_connected 0.0",
                "meerkat_buffer_readings 17.0",
                "meerkat_buffer_bytes 4096.0",
                "meerkat_buffer_oldest_age_seconds 30.0",
                "meerkat_readings_enqueued_total{sensor=\"a\"} 60.0",
                "meerkat_readings_enqueued_total{sensor=\"b\"} 40.0",
                "meerkat_readings_sent_total 90.0",
                "meerkat_readings_acknowledged_total{sensor=\"a\"} 50.0",
                "meerkat_readings_acknowledged_total{sensor=\"b\"} 33.0",
                "meerkat_readings_dropped_total{reason=\"maxBytes\",sensor=\"a\"} 5.0",
                "meerkat_sensor_up{sensor=\"a\"} 1.0",
                "meerkat_sensor_up{sensor=\"b\"} 0.0",
                "meerkat_sensor_read_errors_total{sensor=\"b\"} 7.0",
                "meerkat_lock_skips_total{sensor=\"b\"} 3.0",
                "meerkat_config_errors 1.0",
                "meerkat_config_applied_version{layer=\"fleet\"} 12.0",
                "meerkat_config_applied_version{layer=\"device\"} -1.0",
                "meerkat_lock_holds_total 40.0",
                "meerkat_lock_timeouts_total 2.0",
                "meerkat_locks_held 1.0",
                "meerkat_firmware_info{version=\"1.2.3\"} 1",
                "# TYPE meerkat_readings_acknowledged_total counter")) {
            assertTrue(text.contains(line + "\n"), "no line \"" + line + "\" in:\n" + text);
        }
    }

    @Test
    void anAgentWithoutAConfigYetStillAnswers() throws Exception {
        String text = scrape(Map.of("agentVersion", "0.1.0", "zookeeper", Map.of("connected", false)));
        assertTrue(text.contains("meerkat_zookeeper_connected 0.0\n") && text.contains("meerkat_buffer_oldest_age_seconds 0.0\n"), text);
    }
}
