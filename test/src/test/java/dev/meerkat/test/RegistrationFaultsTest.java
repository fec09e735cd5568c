package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.test.fixtures.ServersPerTest;
import dev.meerkat.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The member znode under every fault a ZooKeeper client meets, with real agent processes on a
 * real 3-server ensemble: in each case it ends owned by the live agent's current session, or gone
 * when the agent is gone. The agent's current session is the one it records in
 * {@code storage.dir/session} when it registers. Each test has servers of its own, since it kills them.
 */
class RegistrationFaultsTest {
    @RegisterExtension
    final ServersPerTest servers = new ServersPerTest("registration-faults");

    /** Starts an agent of {@code fleet}, which has one sensor (written the first time only). */
    AgentProcess start(Fleet fleet, String device, String sessionTimeout) throws Exception {
        if (fleet.operator().checkExists().forPath("/fleets/" + fleet.name() + "/config/sensors/a") == null) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"500ms\"}");
        }
        return AgentProcess.start(fleet.log(device), "run", "--config",
                fleet.bootstrap(device, servers.zk().connectString(), sessionTimeout, servers.mqtt().uri()).toString());
    }

    /** The session the agent says it registered under, or 0. */
    static long recordedSession(Fleet fleet, String device) {
        try {
            String s = Files.readString(fleet.stateDir(device).resolve("session")).strip();
            return Long.parseUnsignedLong(s.substring(2), 16);
        } catch (Exception e) {
            return 0;
        }
    }

    static long owner(Fleet fleet, String device) {
        Stat s = fleet.member(device);
        return s == null ? 0 : s.getEphemeralOwner();
    }

    /** Registered: the znode exists and belongs to the session the live agent registered under. */
    static boolean ownedByAgent(Fleet fleet, String device) {
        long owner = owner(fleet, device);
        return owner != 0 && owner == recordedSession(fleet, device);
    }

    static void awaitRegistered(Fleet fleet, String device, AgentProcess agent, Duration timeout) {
        Await.until(timeout, device + " registered under its current session", () -> ownedByAgent(fleet, device), agent::log);
    }

    @Test
    void aSessionExpiredByTheServersWhileTheAgentIsCutOffEndsWithTheZnodeOwnedByItsNewSession() throws Exception {
        try (Fleet fleet = new Fleet("expiry", servers.zk(), servers.work())) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"500ms\"}");
            // The agent talks to server 0 only; killing it cuts the agent off while the other two,
            // a quorum, expire its session and delete its ephemeral znode.
            String one = servers.zk().connectString().split(",")[0];
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config",
                    fleet.bootstrap("gw-1", one, "4s", servers.mqtt().uri()).toString())) {
                awaitRegistered(fleet, "gw-1", agent, Duration.ofSeconds(30));
                long before = owner(fleet, "gw-1");
                servers.zk().kill(0);
                Await.until(Duration.ofSeconds(30), "the servers expire the session", () -> fleet.member("gw-1") == null);
                servers.zk().restart(0);
                awaitRegistered(fleet, "gw-1", agent, Duration.ofSeconds(60));
                assertNotEquals(before, owner(fleet, "gw-1"));
                assertTrue(agent.log().contains("zookeeper session lost"), agent.log());
            }
        }
    }

    @Test
    void frozenPastItsSessionTimeoutThenThawedItRegistersAgainAndSaysOnlineAgain() throws Exception {
        try (Fleet fleet = new Fleet("frozen", servers.zk(), servers.work());
             RecordingSubscriber rec = new RecordingSubscriber(servers.mqtt().uri(), "meerkat/frozen/gw-1/status", 1);
             AgentProcess agent = start(fleet, "gw-1", "4s")) {
            awaitRegistered(fleet, "gw-1", agent, Duration.ofSeconds(30));
            rec.await(Duration.ofSeconds(30), 1, m -> m.text().contains("\"online\""));
            long before = owner(fleet, "gw-1");
            agent.signal("STOP");
            Thread.sleep(8_000); // twice the session timeout
            Await.until(Duration.ofSeconds(30), "the member gone while frozen", () -> fleet.member("gw-1") == null);
            agent.signal("CONT");
            awaitRegistered(fleet, "gw-1", agent, Duration.ofSeconds(30));
            assertNotEquals(before, owner(fleet, "gw-1"));
            assertTrue(agent.alive());
            // The freeze (8 s) is shorter than the broker's keep-alive grace (1.5 x 30 s), so the MQTT
            // connection survives it and no will is published: the status topic says online, as ZooKeeper does again.
            var all = rec.on("meerkat/frozen/gw-1/status");
            assertTrue(all.get(all.size() - 1).text().contains("\"online\""), all.toString());
        }
    }

    @Test
    void killedAndRestartedAtOnceTheNewProcessTakesTheZnodeWithoutWaitingForTheOldSession() throws Exception {
        try (Fleet fleet = new Fleet("crash", servers.zk(), servers.work())) {
            long oldSession;
            try (AgentProcess first = start(fleet, "gw-1", "30s")) {
                awaitRegistered(fleet, "gw-1", first, Duration.ofSeconds(30));
                oldSession = owner(fleet, "gw-1");
                first.signal("KILL");
                first.waitFor(Duration.ofSeconds(10));
            }
            assertEquals(oldSession, owner(fleet, "gw-1"), "the old session's znode is still there (30 s timeout)");
            try (AgentProcess second = start(fleet, "gw-1", "30s")) {
                Duration took = Await.time(Duration.ofSeconds(25), "the new process registered",
                        () -> owner(fleet, "gw-1") != oldSession && ownedByAgent(fleet, "gw-1"));
                // Well within the old session's 30 s: taken over, not waited out.
                assertTrue(took.toSeconds() < 20, "took " + took);
                assertTrue(second.log().contains("taken over from this gateway's earlier session"), second.log());
                Thread.sleep(1000);
                assertTrue(ownedByAgent(fleet, "gw-1"));
            }
        }
    }

    @Test
    void theZooKeeperLeaderKilledTheSameSessionKeepsTheZnode() throws Exception {
        try (Fleet fleet = new Fleet("leader", servers.zk(), servers.work()); AgentProcess agent = start(fleet, "gw-1", "15s")) {
            awaitRegistered(fleet, "gw-1", agent, Duration.ofSeconds(30));
            long session = owner(fleet, "gw-1");
            int leader = servers.zk().leader();
            servers.zk().kill(leader);
            Await.until(Duration.ofSeconds(30), "a new leader", () -> {
                try {
                    int l = servers.zk().leader();
                    return l >= 0 && l != leader;
                } catch (Exception e) {
                    return false;
                }
            });
            awaitRegistered(fleet, "gw-1", agent, Duration.ofSeconds(30));
            assertEquals(session, owner(fleet, "gw-1"), "the session outlives a leader change");
            servers.zk().restart(leader);
        }
    }

    @Test
    void theWholeEnsembleRestartedTheAgentEndsRegisteredUnderItsLiveSession() throws Exception {
        try (Fleet fleet = new Fleet("restart", servers.zk(), servers.work()); AgentProcess agent = start(fleet, "gw-1", "6s")) {
            awaitRegistered(fleet, "gw-1", agent, Duration.ofSeconds(30));
            for (int i = 0; i < servers.zk().size(); i++) servers.zk().kill(i);
            Thread.sleep(8_000); // longer than the session timeout
            for (int i = 0; i < servers.zk().size(); i++) servers.zk().restart(i);
            awaitRegistered(fleet, "gw-1", agent, Duration.ofSeconds(60));
            assertTrue(agent.alive());
        }
    }

    @Test
    void aCleanStopDeletesTheZnodeAtOnceAndTheFleetListShowsItOffline() throws Exception {
        try (Fleet fleet = new Fleet("clean", servers.zk(), servers.work());
             AgentProcess stays = start(fleet, "gw-2", "30s")) {
            Path boot;
            try (AgentProcess agent = start(fleet, "gw-1", "30s")) {
                boot = fleet.bootstrap("gw-1", servers.zk().connectString(), "30s", servers.mqtt().uri());
                awaitRegistered(fleet, "gw-1", agent, Duration.ofSeconds(30));
                awaitRegistered(fleet, "gw-2", stays, Duration.ofSeconds(30));
                Await.until(Duration.ofSeconds(30), "both statuses", () -> fleet.status("gw-1").isPresent() && fleet.status("gw-2").isPresent());
                agent.signal("TERM");
                assertEquals(0, agent.waitFor(Duration.ofSeconds(15)));
            }
            assertNull(fleet.member("gw-1"), "deleted before the process exited, not at the session timeout");

            Path out = servers.work().resolve("fleet-list.json");
            assertEquals(0, AgentProcess.run(out, Duration.ofSeconds(60), "fleet", "list", "--config", boot.toString(), "--json"));
            String text = Files.readString(out);
            JsonNode list = Json.mapper().readTree(text); // nothing but the JSON: no library chatter
            assertEquals("clean", list.path("fleet").asText());
            assertEquals(1, list.path("online").asInt(), text);
            JsonNode gw1 = list.path("devices").get(0), gw2 = list.path("devices").get(1);
            assertEquals("gw-1", gw1.path("device").asText());
            assertEquals(false, gw1.path("online").asBoolean());
            assertEquals("gw-2", gw2.path("device").asText());
            assertEquals(true, gw2.path("online").asBoolean());
            assertEquals("0x" + Long.toHexString(recordedSession(fleet, "gw-2")), gw2.path("session").asText());
            assertEquals(0, gw2.path("fleetVersion").asLong());
            assertEquals(true, gw2.path("upToDate").asBoolean(), text);
            assertEquals("ok", gw2.path("sensors").path("a").asText(), text);

            // A newer fleet document that the stopped gateway has not seen: it shows as behind.
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"400ms\"}");
            Await.until(Duration.ofSeconds(30), "gw-2 applied version 1",
                    () -> fleet.status("gw-2").map(s -> s.path("config").path("fleetVersion").asLong() == 1).orElse(false));
            Path table = servers.work().resolve("fleet-list.txt");
            assertEquals(0, AgentProcess.run(table, Duration.ofSeconds(60), "fleet", "list", "--config", boot.toString()));
            String t = Files.readString(table);
            assertTrue(t.startsWith("fleet clean: 2 gateways, 1 online; latest fleet config version 1\n"), t);
            assertTrue(t.lines().anyMatch(l -> l.startsWith("gw-1 ") && l.contains("offline") && l.contains("0<1")), t);
            assertTrue(t.lines().anyMatch(l -> l.startsWith("gw-2 ") && l.contains("online")), t);

            Path unknown = servers.work().resolve("fleet-list-unknown.txt");
            assertEquals(1, AgentProcess.run(unknown, Duration.ofSeconds(60), "fleet", "list", "--config", boot.toString(), "--fleet", "nope"));
            assertTrue(Files.readString(unknown).contains("there is no fleet \"nope\""), Files.readString(unknown));
        }
    }
}
