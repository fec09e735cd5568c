package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.NetworkFaults;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.test.fixtures.Servers;
import dev.meerkat.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What an operator or systemd waits on never waits on ZooKeeper: with the agent's ZooKeeper hung
 * (a partition: the sockets stay open and nothing answers), {@code meerkat status} answers at once
 * and a stop is clean and quick. And an ensemble without the fleet's config (wiped, or restored
 * from an old snapshot) is not an operator's "no sensors": the last good config keeps running.
 * (The same under a real systemd: {@code test/system/systemd-test.sh}.)
 */
class OutageBoundaryTest {
    static Servers servers;

    @BeforeAll
    static void start() throws Exception {
        servers = Servers.start("outage");
    }

    @AfterAll
    static void stop() {
        if (servers != null) servers.close();
    }

    static JsonNode status(Fleet fleet, String device, Path boot, Duration within) throws Exception {
        Path out = servers.work().resolve(device + "-status-" + System.nanoTime() + ".json");
        long t0 = System.nanoTime();
        AgentProcess.run(out, within, "status", "--json", "--config", boot.toString());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < within.toMillis(), "meerkat status took " + ms + " ms");
        return Json.mapper().readTree(Files.readString(out));
    }

    @Test
    void withZooKeeperHungStatusAnswersAndTheStopIsCleanAndQuick() throws Exception {
        try (Fleet fleet = new Fleet("hung", servers.zk(), servers.work());
             NetworkFaults net = new NetworkFaults(servers.zk().connectString())) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"200ms\"}");
            Path boot = fleet.bootstrap("gw-1", net.connectString(), "6s", servers.mqtt().uri());
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString());
                 RecordingSubscriber statusTopic = new RecordingSubscriber(servers.mqtt().uri(), "meerkat/hung/gw-1/status", 1)) {
                Await.until(Duration.ofSeconds(30), "registered", () -> fleet.member("gw-1") != null, agent::log);
                Await.until(Duration.ofSeconds(30), "status written", () -> fleet.status("gw-1").isPresent(), agent::log);
                Await.until(Duration.ofSeconds(10), "the status topic says ZooKeeper is connected", () -> statusTopic.messages().stream()
                        .anyMatch(m -> m.json().path("zookeeper").path("connected").asBoolean(false)), agent::log);

                net.partition();
                // Asked at once, while the client still believes it is connected, and again once it knows it is not.
                JsonNode early = status(fleet, "gw-1", boot, Duration.ofSeconds(8));
                assertEquals("gw-1", early.path("device").asText(), early.toString());
                Await.until(Duration.ofSeconds(20), "the agent sees the outage",
                        () -> agent.log().contains("zookeeper connection suspended"), agent::log);
                JsonNode late = status(fleet, "gw-1", boot, Duration.ofSeconds(8));
                assertEquals(false, late.path("zookeeper").path("connected").asBoolean(), late.toString());
                assertEquals(false, late.path("zookeeper").path("registered").asBoolean(), late.toString());
                assertEquals("ok", late.path("sensors").path("a").path("state").asText(), "sampling goes on: " + late);
                // The outage on the retained status topic too (the status znode cannot be written now).
                Await.until(Duration.ofSeconds(10), "the status topic says ZooKeeper is not connected", () -> statusTopic.messages().stream()
                        .anyMatch(m -> m.json().path("state").asText().equals("online")
                                && !m.json().path("zookeeper").path("connected").asBoolean(true)), agent::log);

                // A stop while the server hangs: bounded, clean (exit 0), well inside systemd's 30 s.
                long t0 = System.nanoTime();
                agent.signal("TERM");
                int code = agent.waitFor(Duration.ofSeconds(20));
                long stopMs = (System.nanoTime() - t0) / 1_000_000;
                assertEquals(0, code, agent.log());
                assertTrue(stopMs < 12_000, "the stop took " + stopMs + " ms:\n" + agent.log());
            }
        }
    }

    @Test
    void aFleetWithoutItsConfigZnodeKeepsTheLastGoodConfigRunningAndAppliesAgainOnceItIsBack() throws Exception {
        try (Fleet fleet = new Fleet("wiped", servers.zk(), servers.work())) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"200ms\"}");
            Path boot = fleet.bootstrap("gw-1", servers.zk().connectString(), "6s", servers.mqtt().uri());
            Path lastGood = fleet.stateDir("gw-1").resolve("config").resolve("last-good.json");
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                Await.until(Duration.ofSeconds(30), "applied", () -> Files.exists(lastGood)
                        && fleet.status("gw-1").map(s -> s.path("config").path("fleetVersion").asLong() == 0).orElse(false), agent::log);
                String saved = Files.readString(lastGood);

                // The ensemble loses the fleet's config subtree at once (as a restore from an old snapshot
                // would): one transaction, so no watcher sees a moment with the sensors gone and the config there.
                var op = fleet.operator();
                op.transaction().forOperations(op.transactionOp().delete().forPath("/fleets/wiped/config/sensors/a"),
                        op.transactionOp().delete().forPath("/fleets/wiped/config/sensors"),
                        op.transactionOp().delete().forPath("/fleets/wiped/config"));
                Await.until(Duration.ofSeconds(20), "reported", () -> agent.log().contains("does not exist in ZooKeeper"), agent::log);
                JsonNode s = status(fleet, "gw-1", boot, Duration.ofSeconds(8));
                assertTrue(s.path("configProblem").asText().contains("/fleets/wiped/config"), s.toString());
                assertTrue(s.path("sensors").has("a"), "the sensor keeps running: " + s);
                assertEquals(saved, Files.readString(lastGood), "last-good.json is not overwritten with an empty config");
                // The status znode says so too, as a config error, for the operator's fleet list.
                Await.until(Duration.ofSeconds(10), "the status znode names the missing znode", () -> fleet.status("gw-1")
                        .map(st -> st.path("config").path("errors").toString().contains("/fleets/wiped/config")).orElse(false), agent::log);
                assertTrue(agent.log().lines().noneMatch(l -> l.contains("removed=[a]")), agent.log());

                // Back: applied again, the problem gone.
                fleet.fleetSensor("b", "{\"driver\": \"simulated\", \"interval\": \"200ms\"}");
                Await.until(Duration.ofSeconds(20), "the new subtree applied", () -> agent.log().contains("exists again")
                        && agent.log().contains("removed=[a]"), agent::log);
                JsonNode after = status(fleet, "gw-1", boot, Duration.ofSeconds(8));
                assertTrue(after.path("configProblem").isMissingNode(), after.toString());
                Await.until(Duration.ofSeconds(10), "the status znode's error gone", () -> fleet.status("gw-1")
                        .map(st -> st.path("config").path("errors").size() == 0).orElse(false), agent::log);
                assertTrue(after.path("sensors").has("b") && !after.path("sensors").has("a"), after.toString());
            }
        }
    }
}
