package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.test.fixtures.Servers;
import dev.meerkat.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A gateway that never stays down, and operator views that a hostile device cannot break, against
 * the real agent process and the real commands: a journal segment it cannot read, a restart on a
 * full disk, every segment zero-filled (no seq handed out twice), a password in the MQTT URI, a
 * device's malformed status in {@code fleet list}, malformed rollout states in {@code rollout status}.
 */
class HostileConditionsTest {
    static Servers servers;

    @BeforeAll
    static void start() throws Exception {
        servers = Servers.start("hostile");
    }

    @AfterAll
    static void stop() {
        if (servers != null) servers.close();
    }

    /** The agent of {@code device}, each run with a log of its own. */
    static AgentProcess run(Fleet fleet, String device) throws Exception {
        Path log = fleet.log(device).resolveSibling(fleet.name() + "-" + device + "-" + System.nanoTime() + ".log");
        return AgentProcess.start(log, "run", "--config",
                fleet.bootstrap(device, servers.zk().connectString(), "10s", servers.mqtt().uri()).toString());
    }

    static JsonNode status(Fleet fleet, String device) {
        try {
            return statusOrThrow(fleet, device);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode statusOrThrow(Fleet fleet, String device) throws Exception {
        Path out = servers.work().resolve(fleet.name() + "-" + device + "-status-" + System.nanoTime() + ".json");
        AgentProcess.run(out, Duration.ofSeconds(30), "status", "--json", "--config",
                fleet.bootstrap(device, servers.zk().connectString(), "10s", servers.mqtt().uri()).toString());
        return Json.mapper().readTree(Files.readString(out));
    }

    static List<Path> segments(Path journal) {
        try (Stream<Path> s = Files.list(journal)) {
            return s.filter(p -> p.toString().endsWith(".seg")).sorted().toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static void stopCleanly(AgentProcess agent) throws Exception {
        agent.signal("TERM");
        assertEquals(0, agent.waitFor(Duration.ofSeconds(30)), agent.log());
    }

    @Test
    void aSegmentThatCannotBeReadIsSetAsideAndTheAgentStartsAndCountsWhatItLost() throws Exception {
        try (Fleet fleet = new Fleet("unreadable", servers.zk(), servers.work())) {
            fleet.fleetAgent("{\"buffer\": {\"maxBytes\": \"1MiB\"}}"); // segments of 128 KiB
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"10ms\"}");
            fleet.fleetSensor("b", "{\"driver\": \"simulated\", \"interval\": \"10ms\"}");
            Path journal = fleet.stateDir("gw-1").resolve("journal");
            try (AgentProcess agent = run(fleet, "gw-1")) {
                Await.until(Duration.ofSeconds(30), "applied", () -> fleet.status("gw-1").isPresent(), agent::log);
                servers.mqtt().stop(); // nothing is acknowledged now: the segments stay
                try {
                    Await.until(Duration.ofSeconds(60), "four segments", () -> segments(journal).size() >= 4, agent::log);
                    stopCleanly(agent);
                } finally {
                    servers.mqtt().start();
                }
            }
            Path second = segments(journal).get(1);
            Files.delete(second);
            Files.createDirectory(second); // reading it fails, as a bad sector or a segment of mode 000 (to a non-root agent) does
            try (AgentProcess agent = run(fleet, "gw-1")) {
                Await.until(Duration.ofSeconds(30), "started and sampling again", () -> agent.log().contains("agent started")
                        && agent.log().contains("sensor started sensor=a"), agent::log);
                assertTrue(agent.alive(), agent.log());
                assertTrue(Files.isDirectory(second.resolveSibling(second.getFileName() + ".unreadable")), "set aside");
                assertTrue(agent.log().contains("set aside as " + second.getFileName() + ".unreadable"), agent.log());
                JsonNode s = status(fleet, "gw-1");
                long lost = s.path("mqtt").path("dropped").path("*").path("recovery").asLong();
                assertTrue(lost > 100, "the readings of the segment set aside are counted: " + s.path("mqtt"));
                stopCleanly(agent);
            }
        }
    }

    @Test
    void aRestartOnAFullDiskSamplesCountsWhatItCannotKeepAndRecovers() throws Exception {
        try (Fleet fleet = new Fleet("fulldisk", servers.zk(), servers.work())) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"100ms\"}");
            Path state = fleet.stateDir("gw-1");
            Files.createDirectories(state);
            Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", state.toString()).redirectErrorStream(true).start();
            org.junit.jupiter.api.Assumptions.assumeTrue(mount.waitFor() == 0, "needs root to mount a small tmpfs (CI runs as root)");
            try {
                try (AgentProcess agent = run(fleet, "gw-1")) {
                    Await.until(Duration.ofSeconds(30), "applied", () -> fleet.status("gw-1").isPresent(), agent::log);
                    stopCleanly(agent);
                }
                Path filler = state.resolve("filler");
                try (var out = Files.newOutputStream(filler)) {
                    byte[] block = new byte[4096];
                    while (true) out.write(block);
                } catch (java.io.IOException full) {
                    // the disk is full
                }
                try (AgentProcess agent = run(fleet, "gw-1")) {
                    Await.until(Duration.ofSeconds(30), "readings dropped as diskFull",
                            () -> status(fleet, "gw-1").path("mqtt").path("dropped").path("a").path("diskFull").asLong() > 0, agent::log);
                    assertTrue(agent.alive(), "a restart on a full disk does not fail: " + agent.log());
                    assertTrue(status(fleet, "gw-1").path("mqtt").path("journalError").asText().contains("No space left"));
                    Files.delete(filler);
                    Await.until(Duration.ofSeconds(30), "journaling again", () -> status(fleet, "gw-1").path("mqtt").path("journalError").isNull(),
                            agent::log);
                    stopCleanly(agent);
                }
            } finally {
                new ProcessBuilder("umount", "-l", state.toString()).start().waitFor();
            }
        }
    }

    @Test
    void everySegmentZeroFilledNoSeqIsPublishedTwice() throws Exception {
        try (Fleet fleet = new Fleet("zeroed", servers.zk(), servers.work());
             RecordingSubscriber sub = new RecordingSubscriber(servers.mqtt().uri(), "meerkat/zeroed/gw-1/sensors/#", 1)) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"50ms\"}");
            Path journal = fleet.stateDir("gw-1").resolve("journal");
            try (AgentProcess agent = run(fleet, "gw-1")) {
                Await.until(Duration.ofSeconds(30), "readings", () -> sub.messages().size() >= 40, agent::log);
                stopCleanly(agent);
            }
            Set<Long> before = new HashSet<>();
            for (var m : sub.messages()) before.add(m.json().path("seq").asLong());
            for (Path seg : segments(journal)) Files.write(seg, new byte[(int) Files.size(seg)]);
            int seen = sub.messages().size();
            try (AgentProcess agent = run(fleet, "gw-1")) {
                Await.until(Duration.ofSeconds(30), "readings after the damage", () -> sub.messages().size() >= seen + 20, agent::log);
                stopCleanly(agent);
            }
            List<RecordingSubscriber.Message> after = sub.messages().subList(seen, sub.messages().size());
            for (var m : after) {
                long seq = m.json().path("seq").asLong();
                assertFalse(before.contains(seq), "seq " + seq + " was published before the damage with another reading");
            }
        }
    }

    @Test
    void clientsThatConnectToTheAdminSocketAndSayNothingDoNotHoldUpMeerkatStatus() throws Exception {
        try (Fleet fleet = new Fleet("silent", servers.zk(), servers.work())) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"1s\"}");
            try (AgentProcess agent = run(fleet, "gw-1")) {
                Await.until(Duration.ofSeconds(30), "applied", () -> fleet.status("gw-1").isPresent(), agent::log);
                Path socket = fleet.stateDir("gw-1").resolve("admin.sock");
                List<java.nio.channels.SocketChannel> silent = new java.util.ArrayList<>();
                try {
                    for (int i = 0; i < 50; i++) {
                        var c = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX);
                        c.connect(java.net.UnixDomainSocketAddress.of(socket));
                        silent.add(c);
                    }
                    long t0 = System.nanoTime();
                    JsonNode s = statusOrThrow(fleet, "gw-1");
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    assertEquals("gw-1", s.path("device").asText(), s.toString());
                    assertTrue(ms < 10_000, "meerkat status answered in " + ms + " ms while 50 clients said nothing");
                } finally {
                    for (var c : silent) c.close();
                }
                stopCleanly(agent);
            }
        }
    }

    @Test
    void aPasswordInTheMqttUriIsRefusedAndNeverPrinted() throws Exception {
        try (Fleet fleet = new Fleet("secret", servers.zk(), servers.work())) {
            Path boot = fleet.bootstrap("gw-1", servers.zk().connectString(), "10s", "ssl://gwuser:S3CRET-PW@broker.example:8883");
            Path out = servers.work().resolve("secret-run.log");
            assertEquals(1, AgentProcess.run(out, Duration.ofSeconds(30), "run", "--config", boot.toString()));
            String log = Files.readString(out);
            assertTrue(log.contains("$.mqtt.uri: must not hold a user name or password"), log);
            assertFalse(log.contains("S3CRET-PW") || log.contains("gwuser"), log);
        }
    }

    @Test
    void oneDevicesMalformedStatusIsThatDevicesProblemInFleetList() throws Exception {
        try (Fleet fleet = new Fleet("hostile", servers.zk(), servers.work())) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"1s\"}");
            Path boot = fleet.bootstrap("gw-1", servers.zk().connectString(), "10s", servers.mqtt().uri());
            try (AgentProcess agent = run(fleet, "gw-1")) {
                Await.until(Duration.ofSeconds(30), "gw-1's status", () -> fleet.status("gw-1").isPresent(), agent::log);
                // A stolen gateway writes its own status (docs/security.md): garbage of several kinds.
                fleet.write("/fleets/hostile/devices/d1/status", "{\"sensors\":{\"s1\":5}}");
                fleet.write("/fleets/hostile/devices/d2/status", "{not json");
                fleet.write("/fleets/hostile/devices/d3/status", "[1,2,3]");
                Path out = servers.work().resolve("hostile-fleet-list.json");
                assertEquals(0, AgentProcess.run(out, Duration.ofSeconds(60), "fleet", "list", "--config", boot.toString(), "--json"));
                JsonNode list = Json.mapper().readTree(Files.readString(out));
                assertEquals(4, list.path("devices").size(), list.toString());
                for (JsonNode d : list.path("devices")) {
                    if (d.path("device").asText().equals("gw-1")) {
                        assertTrue(d.path("problem").isNull(), d.toString());
                        assertEquals("ok", d.path("sensors").path("a").asText(), d.toString());
                    } else {
                        assertTrue(d.path("problem").isTextual(), "the bad device carries its problem: " + d);
                    }
                }
                Path table = servers.work().resolve("hostile-fleet-list.txt");
                assertEquals(0, AgentProcess.run(table, Duration.ofSeconds(60), "fleet", "list", "--config", boot.toString()));
                String t = Files.readString(table);
                assertTrue(t.lines().anyMatch(l -> l.startsWith("d1 ") && l.contains("sensor s1 has no state")), t);
                assertFalse(t.contains("Exception"), t);
                stopCleanly(agent);
            }
        }
    }

    @Test
    void malformedRolloutStatesAreThoseRolloutsProblemsInRolloutStatus() throws Exception {
        try (Fleet fleet = new Fleet("badrollouts", servers.zk(), servers.work())) {
            Path boot = fleet.bootstrap("gw-1", servers.zk().connectString(), "10s", servers.mqtt().uri());
            String doc = "{\"firmware\":\"1.5.0\",\"artifact\":{\"url\":\"file:///x.zip\",\"sha256\":\"" + "0".repeat(64) + "\"},"
                    + "\"waves\":[{\"percent\":100}]}";
            List<String> states = List.of("{not json", "null", "{\"population\":{\"a\":1}}", "{\"waves\":[{\"goal\":\"x\"}]}",
                    "[".repeat(1200) + "]".repeat(1200));
            for (int i = 0; i < states.size(); i++) {
                fleet.write("/fleets/badrollouts/rollouts/r" + i, doc);
                fleet.write("/fleets/badrollouts/rollouts/r" + i + "/state", states.get(i));
            }
            fleet.write("/fleets/badrollouts/rollouts/pending", doc); // no state: no leader has started it
            Path out = servers.work().resolve("badrollouts.txt");
            assertEquals(0, AgentProcess.run(out, Duration.ofSeconds(60), "rollout", "status", "--config", boot.toString(), "--fleet", "badrollouts"));
            String t = Files.readString(out);
            for (int i = 0; i < states.size(); i++) {
                int n = i;
                assertTrue(t.lines().anyMatch(l -> l.startsWith("r" + n + " ") && l.contains("unreadable")), t);
            }
            assertTrue(t.lines().anyMatch(l -> l.startsWith("pending ") && l.contains("pending")), t);
            assertFalse(t.contains("Exception") || t.contains("\tat "), t);
            Path json = servers.work().resolve("badrollouts-one.json");
            assertEquals(0, AgentProcess.run(json, Duration.ofSeconds(60), "rollout", "status", "--config", boot.toString(),
                    "--fleet", "badrollouts", "--json", "pending"));
            assertEquals("pending", Json.mapper().readTree(Files.readString(json)).path("status").asText());
            assertNotEquals("", t);

            // The fleet's leader is not stopped by them either: it ends each, saying why.
            try (AgentProcess agent = run(fleet, "gw-1")) {
                Path all = servers.work().resolve("badrollouts-all.json");
                Await.until(Duration.ofSeconds(60), "the leader ended the unreadable rollouts", () -> {
                    try {
                        Files.deleteIfExists(all); // a run's output is appended: each look reads its own answer, not the first one
                        AgentProcess.run(all, Duration.ofSeconds(60), "rollout", "status", "--config", boot.toString(), "--fleet", "badrollouts", "--json");
                        JsonNode list = Json.mapper().readTree(Files.readString(all)).path("rollouts");
                        int aborted = 0;
                        for (JsonNode r : list) {
                            if (r.path("status").asText().equals("aborted") && r.path("reason").asText().contains("could not be read")) aborted++;
                        }
                        return aborted == states.size();
                    } catch (Exception e) {
                        return false;
                    }
                }, agent::log);
                assertTrue(agent.alive(), agent.log());
                stopCleanly(agent);
            }
        }
    }
}
