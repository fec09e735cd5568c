package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.ServersPerTest;
import dev.meerkat.testing.Await;
import dev.meerkat.testing.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code meerkat status} through the admin socket of a real agent process, with its exit codes. */
class StatusCommandTest {
    @RegisterExtension
    final ServersPerTest servers = new ServersPerTest("status");

    record Run(int code, String out) {}

    Run meerkat(String name, String... args) throws Exception {
        Path log = servers.work().resolve(name + "-" + System.nanoTime() + ".out");
        int code = AgentProcess.run(log, Duration.ofSeconds(60), args);
        return new Run(code, Files.readString(log));
    }

    @Test
    void statusAnswersFromTheRunningAgentAndItsExitCodeSaysWhetherItIsHealthy() throws Exception {
        try (Fleet fleet = new Fleet("status", servers.zk(), servers.work())) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"200ms\"}");
            Path boot = fleet.bootstrap("gw-1", servers.zk().connectString(), "10s", servers.mqtt().uri());
            assertEquals(3, meerkat("before", "status", "--config", boot.toString()).code(), "no agent yet");
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                Await.until(Duration.ofSeconds(30), "healthy", () -> {
                    try {
                        return meerkat("poll", "status", "--config", boot.toString()).code() == 0;
                    } catch (Exception e) {
                        return false;
                    }
                }, agent::log);
                Path socket = fleet.stateDir("gw-1").resolve("admin.sock");
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)), "owner only");

                Run table = meerkat("table", "status", "--config", boot.toString());
                assertTrue(table.out().startsWith("gw-1 (fleet status), agent "), table.out());
                assertTrue(table.out().contains("registered") && table.out().contains("healthy"), table.out());
                Run json = meerkat("json", "status", "--config", boot.toString(), "--json");
                JsonNode s = Json.mapper().readTree(json.out());
                assertTrue(s.path("zookeeper").path("registered").asBoolean(), json.out());
                assertEquals(fleet.member("gw-1").getEphemeralOwner(), Long.parseUnsignedLong(s.path("zookeeper").path("session").asText().substring(2), 16));
                assertEquals(0, s.path("config").path("fleetVersion").asLong());
                assertEquals("ok", s.path("sensors").path("a").path("state").asText());
                assertTrue(s.path("mqtt").path("acknowledged").asLong() > 0, json.out());

                // The sensors, and one reading now.
                Run list = meerkat("list", "sensors", "list", "--config", boot.toString());
                assertEquals(0, list.code(), list.out());
                assertTrue(list.out().lines().anyMatch(l -> l.matches("a +simulated +200ms +ok +.*")), list.out());
                Run read = meerkat("read", "sensors", "read", "a", "--config", boot.toString(), "--json");
                assertEquals(0, read.code(), read.out());
                JsonNode reading = Json.mapper().readTree(read.out());
                assertEquals("a", reading.path("sensor").asText());
                assertTrue(reading.path("seq").asLong() > 0 && reading.path("values").size() > 0, read.out());
                Run none = meerkat("none", "sensors", "read", "nope", "--config", boot.toString());
                assertEquals(1, none.code());
                assertTrue(none.out().contains("no sensor \"nope\" runs here; sensors: a"), none.out());

                // A second agent on the same state and socket is refused.
                Run second = meerkat("second", "run", "--config", boot.toString());
                assertEquals(1, second.code(), second.out());
                assertTrue(second.out().contains("another agent is running"), second.out());

                // The broker gone: unhealthy, exit 1, and why.
                servers.mqtt().stop();
                Await.until(Duration.ofSeconds(30), "unhealthy", () -> {
                    try {
                        Run r = meerkat("down", "status", "--config", boot.toString());
                        return r.code() == 1 && r.out().contains("NOT healthy: MQTT not connected");
                    } catch (Exception e) {
                        return false;
                    }
                }, agent::log);
                servers.mqtt().start();
                agent.signal("TERM");
                assertEquals(0, agent.waitFor(Duration.ofSeconds(15)));
            }
            assertTrue(!Files.exists(fleet.stateDir("gw-1").resolve("admin.sock")), "a clean stop removes the socket");
            assertEquals(3, meerkat("after", "status", "--config", boot.toString()).code());
        }
    }

    static JsonNode check(JsonNode doctor, String name) {
        for (JsonNode c : doctor.path("checks")) if (c.path("check").asText().equals(name)) return c;
        throw new AssertionError("no check " + name + " in " + doctor);
    }

    @Test
    void doctorChecksTheGatewayWithAndWithoutTheAgent() throws Exception {
        try (Fleet fleet = new Fleet("doctor", servers.zk(), servers.work())) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"200ms\"}");
            fleet.fleetSensor("climate", "{\"driver\": \"bme280\", \"bus\": {\"i2c\": 1, \"address\": \"0x76\"}, \"interval\": \"1s\"}");
            Path boot = fleet.bootstrap("gw-1", servers.zk().connectString(), "10s", servers.mqtt().uri());
            Path dev = Files.createDirectories(servers.work().resolve("dev"));
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                Await.until(Duration.ofSeconds(30), "the last good config on disk",
                        () -> Files.exists(fleet.stateDir("gw-1").resolve("config/last-good.json")), agent::log);
                // No /dev/i2c-1 (a directory of the test's stands for /dev): that check fails, with what to do.
                Run r = meerkat("doctor", "doctor", "--config", boot.toString(), "--json", "--dev", dev.toString());
                assertEquals(1, r.code(), r.out());
                JsonNode d = Json.mapper().readTree(r.out());
                assertEquals("fail", check(d, "bus i2c-1").path("result").asText());
                assertTrue(check(d, "bus i2c-1").path("hint").asText().contains("dtparam=i2c_arm=on"), r.out());
                assertEquals("ok", check(d, "zookeeper session").path("result").asText(), r.out());
                assertEquals("ok", check(d, "zookeeper znodes").path("result").asText(), r.out());
                assertEquals("ok", check(d, "mqtt").path("result").asText(), r.out());
                assertEquals("ok", check(d, "config on disk").path("result").asText(), r.out());
                // No fleet key in this bootstrap config: rollouts would fail at verifying; a warning that says so.
                assertEquals("warn", check(d, "firmware key").path("result").asText(), r.out());
                assertTrue(check(d, "firmware key").path("hint").asText().contains("firmware.publicKey"), r.out());
                // The agent answers; its bme280 has no bus here, so it is not healthy: a warning, not a failure.
                assertEquals("warn", check(d, "agent").path("result").asText(), r.out());
                assertTrue(check(d, "agent").path("detail").asText().contains("sensor climate"), r.out());

                Files.createFile(dev.resolve("i2c-1"));
                Run fixed = meerkat("doctor-fixed", "doctor", "--config", boot.toString(), "--dev", dev.toString());
                assertEquals(0, fixed.code(), fixed.out());
                assertTrue(fixed.out().lines().anyMatch(l -> l.matches("OK +bus i2c-1 .*")), fixed.out());
            }
            // Servers that do not answer, and no agent: exit 3.
            Path nowhere = fleet.bootstrap("gw-2", "127.0.0.1:" + Ports.free(), "10s", "tcp://127.0.0.1:" + Ports.free());
            Run away = meerkat("doctor-away", "doctor", "--config", nowhere.toString(), "--json");
            assertEquals(3, away.code(), away.out());
            JsonNode d = Json.mapper().readTree(away.out());
            assertEquals("fail", check(d, "zookeeper").path("result").asText());
            assertEquals("fail", check(d, "mqtt").path("result").asText());
            assertEquals("warn", check(d, "agent").path("result").asText());
        }
    }
}
