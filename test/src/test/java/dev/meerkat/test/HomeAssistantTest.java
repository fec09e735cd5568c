package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.test.fixtures.ServersPerTest;
import dev.meerkat.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Home Assistant discovery (SPEC §12, {@code publish.homeAssistant}) from a real agent process
 * through mosquitto, seen by a recording subscriber as Home Assistant would see it: the retained
 * device document with a component per sensor quantity, published again when Home Assistant says
 * {@code online}, a removed sensor's components removed (also one removed while the agent was
 * stopped), and the device removed when discovery is turned off.
 */
class HomeAssistantTest {
    @RegisterExtension
    final ServersPerTest servers = new ServersPerTest("homeassistant");

    static final String TOPIC = "homeassistant/device/meerkat_ha_gw-1/config";

    @Test
    void theDeviceAndItsSensorsAppearStayAndGo() throws Exception {
        try (Fleet fleet = new Fleet("ha", servers.zk(), servers.work());
             RecordingSubscriber rec = new RecordingSubscriber(servers.mqtt().uri(), "homeassistant/#", 1)) {
            fleet.fleetAgent("{\"publish\": {\"homeAssistant\": {\"discovery\": true}}}");
            fleet.fleetSensor("climate", "{\"driver\": \"simulated\", \"interval\": \"1s\", \"settings\": {\"values\": {"
                    + "\"temperature\": {\"base\": 21, \"unit\": \"Cel\"}, \"humidity\": {\"base\": 40, \"unit\": \"%RH\"}}}}");
            fleet.fleetSensor("spare", "{\"driver\": \"simulated\", \"interval\": \"1s\"}");
            Path boot = fleet.bootstrap("gw-1", servers.zk().connectString(), "10s", servers.mqtt().uri());
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                JsonNode doc = rec.await(Duration.ofSeconds(60), 1, m -> m.topic().equals(TOPIC)).get(0).json();
                assertEquals(Set.of("climate_temperature", "climate_humidity", "spare_value"), names(doc.path("components")), doc.toString());
                assertEquals("temperature", doc.path("components").path("climate_temperature").path("device_class").asText());
                assertEquals("meerkat/ha/gw-1/sensors/climate", doc.path("components").path("climate_temperature").path("state_topic").asText());
                assertEquals("meerkat/ha/gw-1/status", doc.path("availability").get(0).path("topic").asText());
                // meerkat status says where the document is.
                Path out = servers.work().resolve("status.json");
                assertEquals(0, AgentProcess.run(out, Duration.ofSeconds(60), "status", "--config", boot.toString(), "--json"));
                JsonNode status = dev.meerkat.config.Json.tree(java.nio.file.Files.readAllBytes(out));
                assertEquals("json", status.path("publish").path("format").asText(), status.toString());
                assertEquals(TOPIC, status.path("publish").path("homeAssistantDiscovery").asText(), status.toString());

                // Retained: a Home Assistant that connects later (or restarts) gets it from the broker.
                try (RecordingSubscriber late = new RecordingSubscriber(servers.mqtt().uri(), TOPIC, 1)) {
                    RecordingSubscriber.Message m = late.await(Duration.ofSeconds(10), 1, x -> true).get(0);
                    assertTrue(m.retained() && m.json().equals(doc), "the retained document is the one published");
                }

                // Home Assistant's birth message: the document comes again.
                int before = rec.on(TOPIC).size();
                publish("homeassistant/status", "online", false);
                rec.await(Duration.ofSeconds(20), before + 1, m -> m.topic().equals(TOPIC));
                publish("homeassistant/status", "offline", false);

                // A sensor removed: its component stays as its platform alone, which removes it in Home Assistant.
                fleet.delete("/fleets/ha/config/sensors/spare");
                JsonNode after = awaitDoc(rec, d -> d.path("components").path("spare_value").size() == 1);
                assertEquals("sensor", after.path("components").path("spare_value").path("platform").asText());
                assertTrue(after.path("components").path("climate_temperature").has("unique_id"), "the others stay");
            }

            // Removed while the agent was stopped: still removed at the next start (the components published are kept on disk).
            fleet.delete("/fleets/ha/config/sensors/climate");
            fleet.fleetSensor("door", "{\"driver\": \"simulated\", \"interval\": \"1s\"}");
            int before = rec.on(TOPIC).size();
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                Await.until(Duration.ofSeconds(60), "a document after the restart", () -> rec.on(TOPIC).size() > before, agent::log);
                JsonNode doc = awaitDoc(rec, d -> d.path("components").has("door_value"));
                assertEquals(1, doc.path("components").path("climate_temperature").size(), "removed while stopped: " + doc);
                assertEquals(1, doc.path("components").path("climate_humidity").size(), doc.toString());

                // Off: the device goes (an empty retained document), and nothing more is published.
                fleet.fleetAgent("{\"publish\": {\"homeAssistant\": {\"discovery\": false}}}");
                Await.until(Duration.ofSeconds(30), "the device removed", () -> {
                    List<RecordingSubscriber.Message> on = rec.on(TOPIC);
                    return !on.isEmpty() && on.get(on.size() - 1).payload().length == 0;
                }, agent::log);
                int removed = rec.on(TOPIC).size();
                publish("homeassistant/status", "online", false);
                Thread.sleep(3000); // a window in which nothing must come: Home Assistant's online is not answered while off
                assertEquals(removed, rec.on(TOPIC).size(), "nothing published while discovery is off");
            }
            try (RecordingSubscriber late = new RecordingSubscriber(servers.mqtt().uri(), TOPIC, 1)) {
                Thread.sleep(1000);
                assertFalse(late.messages().stream().anyMatch(m -> m.payload().length > 0), "no retained document left at the broker");
            }

            // Turned off while the agent was stopped: the device goes at the next start.
            fleet.fleetAgent("{\"publish\": {\"homeAssistant\": {\"discovery\": true}}}");
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                awaitDoc(rec, d -> d.path("components").has("door_value"));
            }
            fleet.fleetAgent("{\"publish\": {\"homeAssistant\": {\"discovery\": false}}}");
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                Await.until(Duration.ofSeconds(60), "the device removed at the start", () -> {
                    List<RecordingSubscriber.Message> on = rec.on(TOPIC);
                    return on.get(on.size() - 1).payload().length == 0;
                }, agent::log);
            }
        }
    }

    private static JsonNode awaitDoc(RecordingSubscriber rec, java.util.function.Predicate<JsonNode> which) {
        Await.until(Duration.ofSeconds(30), "a discovery document that fits", () -> {
            List<RecordingSubscriber.Message> on = rec.on(TOPIC);
            return !on.isEmpty() && on.get(on.size() - 1).payload().length > 0 && which.test(on.get(on.size() - 1).json());
        }, () -> rec.on(TOPIC).isEmpty() ? "none" : rec.on(TOPIC).get(rec.on(TOPIC).size() - 1).text());
        List<RecordingSubscriber.Message> on = rec.on(TOPIC);
        return on.get(on.size() - 1).json();
    }

    private static Set<String> names(JsonNode o) {
        Set<String> s = new TreeSet<>();
        o.fieldNames().forEachRemaining(s::add);
        return s;
    }

    private void publish(String topic, String payload, boolean retained) throws Exception {
        MqttClient c = new MqttClient(servers.mqtt().uri(), "ha-" + System.nanoTime(), new MemoryPersistence());
        c.connect();
        c.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 1, retained);
        c.disconnect();
        c.close();
    }
}
