package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.test.fixtures.ServersPerTest;
import dev.meerkat.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Config changes that happen while the agent cannot see them: its server down (same session), its
 * session expired, the whole ensemble down at start. Each test has an ensemble of its own, since
 * it kills servers.
 */
class ReconfigurationFaultsTest {
    @RegisterExtension
    final ServersPerTest servers = new ServersPerTest("reconfig-faults");

    /** The agent talks to server {@code i} only, so killing it cuts the agent off and nobody else. */
    AgentProcess startOnOneServer(Fleet fleet, String device, int i, String sessionTimeout) throws Exception {
        String one = servers.zk().connectString().split(",")[i];
        return AgentProcess.start(fleet.log(device), "run", "--config",
                fleet.bootstrap(device, one, sessionTimeout, servers.mqtt().uri()).toString());
    }

    static long fleetVersion(Fleet fleet, String device) {
        return fleet.status(device).map(s -> s.path("config").path("fleetVersion").asLong()).orElse(-2L);
    }

    static int count(String text, String what) {
        return text.split(java.util.regex.Pattern.quote(what), -1).length - 1;
    }

    @Test
    void aChangeMadeWhileTheAgentIsCutOffIsAppliedOnceWhenItReconnects() throws Exception {
        try (Fleet fleet = new Fleet("cut", servers.zk(), servers.work())) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"1s\"}");
            int server = 0;
            try (AgentProcess agent = startOnOneServer(fleet, "gw-1", server, "20s")) {
                Await.until(Duration.ofSeconds(30), "applied", () -> fleetVersion(fleet, "gw-1") == 0, agent::log);
                long session = fleet.member("gw-1").getEphemeralOwner();
                servers.zk().kill(server);
                fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"500ms\"}");
                fleet.fleetSensor("b", "{\"driver\": \"simulated\", \"interval\": \"500ms\"}");
                Thread.sleep(2000); // cut off for a while (well within the 20s session)
                assertTrue(agent.log().lines().noneMatch(l -> l.contains("config applied fleetVersion=1")), "applied while cut off?");
                servers.zk().restart(server);
                Await.until(Duration.ofSeconds(30), "the change applied after the reconnect",
                        () -> fleetVersion(fleet, "gw-1") == 1, agent::log);
                Thread.sleep(2000); // the reconcile after the reconnect must not apply it a second time
                assertEquals(1, count(agent.log(), "config applied fleetVersion=1 "), agent.log());
                assertEquals(session, fleet.member("gw-1").getEphemeralOwner(), "the same session throughout");
            }
        }
    }

    @Test
    void aChangeMadeWhileTheSessionExpiresIsAppliedUnderTheNewSession() throws Exception {
        try (Fleet fleet = new Fleet("expiry", servers.zk(), servers.work())) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"1s\"}");
            int server = 1;
            try (AgentProcess agent = startOnOneServer(fleet, "gw-1", server, "4s")) {
                Await.until(Duration.ofSeconds(30), "applied", () -> fleetVersion(fleet, "gw-1") == 0, agent::log);
                long session = fleet.member("gw-1").getEphemeralOwner();
                servers.zk().kill(server);
                // The rest of the ensemble expires the session and drops the member znode.
                Await.until(Duration.ofSeconds(30), "the session expired", () -> fleet.member("gw-1") == null);
                fleet.fleetSensor("b", "{\"driver\": \"simulated\", \"interval\": \"500ms\"}");
                servers.zk().restart(server);
                Await.until(Duration.ofSeconds(60), "the change applied under a new session",
                        () -> fleetVersion(fleet, "gw-1") == 0 && fleet.status("gw-1").orElseThrow().path("sensors").has("b"), agent::log);
                Await.until(Duration.ofSeconds(30), "registered again", () -> fleet.member("gw-1") != null, agent::log);
                assertNotEquals(session, fleet.member("gw-1").getEphemeralOwner());
                assertEquals(1, count(agent.log(), "added=[b]"), agent.log());
            }
        }
    }

    @Test
    void startsFromTheLastGoodConfigWithZooKeeperDownAndReconcilesWhenItAnswers() throws Exception {
        try (Fleet fleet = new Fleet("down", servers.zk(), servers.work());
             RecordingSubscriber rec = new RecordingSubscriber(servers.mqtt().uri(), "meerkat/down/gw-1/sensors/#", 1)) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"200ms\"}");
            Path boot = fleet.bootstrap("gw-1", servers.zk().connectString(), "10s", servers.mqtt().uri());
            try (AgentProcess first = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                Await.until(Duration.ofSeconds(30), "applied", () -> fleetVersion(fleet, "gw-1") == 0, first::log);
                first.signal("TERM");
                assertEquals(0, first.waitFor(Duration.ofSeconds(10)));
            }
            assertTrue(Files.exists(fleet.stateDir("gw-1").resolve("config/last-good.json")));
            fleet.fleetSensor("b", "{\"driver\": \"simulated\", \"interval\": \"200ms\"}");
            for (int i = 0; i < servers.zk().size(); i++) servers.zk().kill(i);

            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                int before = rec.on("meerkat/down/gw-1/sensors/a").size();
                rec.await(Duration.ofSeconds(30), before + 5, m -> m.topic().equals("meerkat/down/gw-1/sensors/a"));
                assertTrue(rec.on("meerkat/down/gw-1/sensors/b").isEmpty(), "b is not in the last good config");
                for (int i = 0; i < servers.zk().size(); i++) servers.zk().restart(i);
                rec.await(Duration.ofSeconds(60), 3, m -> m.topic().equals("meerkat/down/gw-1/sensors/b"));
                Await.until(Duration.ofSeconds(30), "the status after the reconcile",
                        () -> fleet.status("gw-1").map(s -> s.path("sensors").has("b")).orElse(false), agent::log);
            }
        }
    }
}
