package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import dev.meerkat.coordination.testing.ZooKeeperEnsemble;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.MqttBroker;
import dev.meerkat.test.fixtures.Servers;
import dev.meerkat.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code meerkat config validate|push|show} through the launcher, with their exit codes. */
class ConfigCommandTest {
    static Servers servers;
    static ZooKeeperEnsemble zk;
    static MqttBroker mqtt;
    static Path work;
    static Path operatorConfig;

    @BeforeAll
    static void servers() throws Exception {
        servers = Servers.start("config-cli");
        work = servers.work();
        zk = servers.zk();
        mqtt = servers.mqtt();
        // An operator's laptop: only the zookeeper section.
        operatorConfig = work.resolve("operator.yaml");
        Files.writeString(operatorConfig, "zookeeper:\n  connect: " + zk.connectString() + "\n");
    }

    @AfterAll
    static void stop() {
        if (servers != null) servers.close();
    }

    record Run(int code, String out) {}

    static Run meerkat(String... args) throws Exception {
        Path log = Files.createTempFile(work, "cli-", ".log");
        int code = AgentProcess.run(log, Duration.ofSeconds(60), args);
        return new Run(code, Files.readString(log));
    }

    static Path file(String name, String text) throws Exception {
        return Files.writeString(work.resolve(name), text);
    }

    @Test
    void validateIsOfflineAndNamesEveryError() throws Exception {
        Run ok = meerkat("config", "validate", file("s1.json", "{\"driver\": \"simulated\", \"interval\": \"1s\"}").toString());
        assertEquals(0, ok.code, ok.out);
        assertTrue(ok.out.contains("a valid sensor document"), ok.out);

        Run bad = meerkat("config", "validate", file("s2.json", "{\"driver\": \"simulated\", \"interval\": \"-5s\", \"colour\": 1}").toString());
        assertEquals(1, bad.code, bad.out);
        assertTrue(bad.out.contains("$.interval: must be a duration like 500ms, 15s, 5m, 2h or 7d, got \"-5s\""), bad.out);
        assertTrue(bad.out.contains("$.colour: is not a known key"), bad.out);

        Run agent = meerkat("config", "validate", "--json", file("agent.json", "{\"logLevel\": \"loud\"}").toString());
        assertEquals(1, agent.code, agent.out);
        JsonNode j = Json.mapper().readTree(agent.out.lines().reduce((a, b) -> b).orElseThrow());
        assertEquals("agent", j.path("kind").asText());
        assertFalse(j.path("valid").asBoolean());
        assertEquals("$.logLevel", j.path("errors").get(0).path("path").asText());

        Run boot = meerkat("config", "validate", file("agent.yaml", "device:\n  fleet: F!\n").toString());
        assertEquals(1, boot.code, boot.out);
        assertTrue(boot.out.contains("$.device.fleet"), boot.out);
        assertTrue(boot.out.contains("$.zookeeper.connect: is required"), boot.out);

        assertEquals(2, meerkat("config", "validate").code, "a missing FILE is a usage error");
    }

    @Test
    void pushValidatesThenWritesAndNeverOverwritesAChangeItHasNotSeen() throws Exception {
        try (Fleet fleet = new Fleet("push", zk, work)) {
            String c = operatorConfig.toString();
            Path good = file("push-a.json", "{\"driver\": \"simulated\", \"interval\": \"1s\"}");
            Run first = meerkat("config", "push", "--config", c, "--fleet", "push", "--sensor", "a", good.toString());
            assertEquals(0, first.code, first.out);
            assertTrue(first.out.contains("written /fleets/push/config/sensors/a version 0"), first.out);
            String path = "/fleets/push/config/sensors/a";
            assertEquals("{\"driver\": \"simulated\", \"interval\": \"1s\"}",
                    new String(fleet.operator().getData().forPath(path), StandardCharsets.UTF_8));

            // With the version the operator saw: written.
            Run second = meerkat("config", "push", "--config", c, "--fleet", "push", "--sensor", "a", "--expect-version", "0", good.toString());
            assertEquals(0, second.code, second.out);
            // Somebody else changes it; a push that expects the old version is refused and writes nothing.
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"2s\"}");
            Run stale = meerkat("config", "push", "--config", c, "--fleet", "push", "--sensor", "a", "--expect-version", "1", good.toString());
            assertEquals(1, stale.code, stale.out);
            assertTrue(stale.out.contains("is at version 2, not 1"), stale.out);
            assertTrue(new String(fleet.operator().getData().forPath(path), StandardCharsets.UTF_8).contains("2s"));

            // An invalid document is rejected before anything is written.
            Path bad = file("push-bad.json", "{\"driver\": \"simulated\", \"interval\": \"5ms\"}");
            Run rejected = meerkat("config", "push", "--config", c, "--fleet", "push", "--sensor", "a", bad.toString());
            assertEquals(1, rejected.code, rejected.out);
            assertTrue(rejected.out.contains("$.interval: must be between 10ms and 24h, got 5ms"), rejected.out);
            assertEquals(2, fleet.operator().checkExists().forPath(path).getVersion());

            // A device override is checked over the fleet's document: a partial document is fine.
            Path override = file("push-override.json", "{\"interval\": \"250ms\"}");
            Run dev = meerkat("config", "push", "--config", c, "--fleet", "push", "--device", "gw-1", "--sensor", "a", override.toString());
            assertEquals(0, dev.code, dev.out);
            Run agentDoc = meerkat("config", "push", "--config", c, "--fleet", "push", "--agent", file("push-agent.json", "{\"logLevel\": \"debug\"}").toString());
            assertEquals(0, agentDoc.code, agentDoc.out);

            // Usage errors and an unreachable ensemble.
            assertEquals(2, meerkat("config", "push", "--config", c, "--fleet", "push", good.toString()).code, "neither --sensor nor --agent");
            assertEquals(2, meerkat("config", "push", "--config", c, "--fleet", "Push!", "--agent", good.toString()).code);
            Path nowhere = file("nowhere.yaml", "zookeeper:\n  connect: 127.0.0.1:1\n");
            assertEquals(3, meerkat("config", "push", "--config", nowhere.toString(), "--fleet", "push", "--agent", good.toString()).code);
        }
    }

    @Test
    void showPrintsWhatTheAgentRuns() throws Exception {
        try (Fleet fleet = new Fleet("show", zk, work)) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"1s\"}");
            fleet.deviceSensor("gw-1", "a", "{\"interval\": \"500ms\"}");
            Path boot = fleet.bootstrap("gw-1", zk.connectString(), "10s", mqtt.uri());
            assertEquals(3, meerkat("config", "show", "--config", boot.toString()).code, "no agent has run yet");
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                Await.until(Duration.ofSeconds(30), "applied", () -> fleet.status("gw-1").isPresent(), agent::log);
                Run docs = meerkat("config", "show", "--config", boot.toString(), "--json");
                assertEquals(0, docs.code, docs.out);
                JsonNode d = Json.mapper().readTree(docs.out.lines().reduce((a, b) -> b).orElseThrow());
                assertEquals("1s", d.path("documents").path("/fleets/show/config/sensors/a").path("document").path("interval").asText());
                assertEquals("500ms", d.path("documents").path("/fleets/show/devices/gw-1/config/sensors/a").path("document").path("interval").asText());

                Run eff = meerkat("config", "show", "--config", boot.toString(), "--effective", "--json");
                assertEquals(0, eff.code, eff.out);
                JsonNode e = Json.mapper().readTree(eff.out.lines().reduce((a, b) -> b).orElseThrow());
                assertEquals("500ms", e.path("effective").path("sensors").path("a").path("interval").asText());
                assertEquals("meerkat", e.path("effective").path("agent").path("mqtt").path("topicPrefix").asText());
                assertEquals(fleet.status("gw-1").orElseThrow().path("config").path("digest").asText(), e.path("digest").asText());
            }
        }
    }
}
