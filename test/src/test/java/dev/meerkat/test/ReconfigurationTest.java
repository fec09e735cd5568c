package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.coordination.testing.ZooKeeperEnsemble;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.MqttBroker;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.test.fixtures.RecordingSubscriber.Message;
import dev.meerkat.test.fixtures.Servers;
import dev.meerkat.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Live reconfiguration of a real agent process: every change an operator writes is applied without
 * a restart, touching only what it changes; a bad document is reported and the rest keeps running.
 */
class ReconfigurationTest {
    static Servers servers;
    static ZooKeeperEnsemble zk;
    static MqttBroker mqtt;
    static Path work;

    @BeforeAll
    static void servers() throws Exception {
        servers = Servers.start("reconfig");
        work = servers.work();
        zk = servers.zk();
        mqtt = servers.mqtt();
    }

    @AfterAll
    static void stop() {
        if (servers != null) servers.close();
    }

    static AgentProcess start(Fleet fleet, String device) throws Exception {
        return AgentProcess.start(fleet.log(device), "run", "--config",
                fleet.bootstrap(device, zk.connectString(), "10s", mqtt.uri()).toString());
    }

    static long seq(Message m) {
        return m.json().path("seq").asLong();
    }

    static JsonNode status(Fleet fleet, String device) {
        return fleet.status(device).orElseThrow(() -> new AssertionError("no status for " + device));
    }

    static int count(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
        int n = 0;
        while (m.find()) n++;
        return n;
    }

    @Test
    void everyChangeAppliesLiveAndOnlyWhereItChanges() throws Exception {
        try (Fleet fleet = new Fleet("live", zk, work)) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"1s\"}");
            String t = "meerkat/live/gw-1/";
            try (RecordingSubscriber rec = new RecordingSubscriber(mqtt.uri(), "+/live/gw-1/#", 1);
                 AgentProcess agent = start(fleet, "gw-1")) {
                Await.until(Duration.ofSeconds(30), "status with sensor a",
                        () -> fleet.status("gw-1").map(s -> s.path("sensors").has("a")).orElse(false), agent::log);
                assertEquals(0, status(fleet, "gw-1").path("config").path("fleetVersion").asLong());

                // Add a sensor.
                fleet.fleetSensor("b", "{\"driver\": \"simulated\", \"interval\": \"200ms\"}");
                rec.await(Duration.ofSeconds(10), 3, m -> m.topic().equals(t + "sensors/b"));

                // Change a's interval: a is restarted at the new rate; b runs on untouched.
                fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"100ms\"}");
                Await.until(Duration.ofSeconds(10), "status of fleet version 1",
                        () -> status(fleet, "gw-1").path("config").path("fleetVersion").asLong() == 1);
                int before = rec.on(t + "sensors/a").size();
                Await.until(Duration.ofSeconds(10), "a at 10 readings/s", () -> rec.on(t + "sensors/a").size() >= before + 10);
                assertEquals(1, count(agent.log(), "sensor started sensor=b"), "b must not be restarted:\n" + agent.log());
                assertEquals(2, count(agent.log(), "sensor started sensor=a"), agent.log());
                List<Message> b = rec.on(t + "sensors/b");
                for (int i = 1; i < b.size(); i++) assertEquals(seq(b.get(i - 1)) + 1, seq(b.get(i)), "b's seq");

                // Remove b.
                fleet.delete("/fleets/live/config/sensors/b");
                Await.until(Duration.ofSeconds(10), "b gone from the status",
                        () -> !status(fleet, "gw-1").path("sensors").has("b"));
                int bAfter = rec.on(t + "sensors/b").size();
                Await.until(Duration.ofSeconds(5), "more readings of a", () -> rec.on(t + "sensors/a").size() >= before + 25);
                assertEquals(bAfter, rec.on(t + "sensors/b").size(), "b still publishes after its removal");

                // Switch the fleet sensor a off on this device only.
                fleet.deviceSensor("gw-1", "a", "{\"enabled\": false}");
                Await.until(Duration.ofSeconds(10), "a off on gw-1", () -> !status(fleet, "gw-1").path("sensors").has("a"));
                assertEquals(0, status(fleet, "gw-1").path("config").path("deviceVersion").asLong());
                fleet.delete("/fleets/live/devices/gw-1/config/sensors/a");
                Await.until(Duration.ofSeconds(10), "a back on gw-1", () -> status(fleet, "gw-1").path("sensors").has("a"));

                // A new topic prefix: readings and the retained status move; the old status says offline.
                fleet.fleetAgent("{\"mqtt\": {\"topicPrefix\": \"site9\"}}");
                rec.await(Duration.ofSeconds(10), 3, m -> m.topic().equals("site9/live/gw-1/sensors/a"));
                rec.await(Duration.ofSeconds(10), 1, m -> m.topic().equals("site9/live/gw-1/status")
                        && "online".equals(m.json().path("state").asText()));
                rec.await(Duration.ofSeconds(10), 1, m -> m.topic().equals(t + "status")
                        && "offline".equals(m.json().path("state").asText()));
                assertTrue(agent.alive(), "all of it without a restart");
                assertEquals(1, count(agent.log(), "agent started"), agent.log());
            }
        }
    }

    @Test
    void aBadDocumentIsReportedWithItsPathAndTheLastGoodConfigKeepsRunning() throws Exception {
        try (Fleet fleet = new Fleet("bad", zk, work)) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"100ms\"}");
            String t = "meerkat/bad/gw-1/";
            try (RecordingSubscriber rec = new RecordingSubscriber(mqtt.uri(), t + "#", 1);
                 AgentProcess agent = start(fleet, "gw-1")) {
                rec.await(Duration.ofSeconds(30), 5, m -> m.topic().equals(t + "sensors/a"));

                // A new document that is wrong: reported, never run; a runs on.
                fleet.fleetSensor("c", "{\"driver\": \"simulated\", \"interval\": \"-5s\"}");
                Await.until(Duration.ofSeconds(10), "the error in the status", () -> hasError(fleet, "/fleets/bad/config/sensors/c", "$.interval"),
                        () -> fleet.status("gw-1").toString());
                JsonNode err = status(fleet, "gw-1").path("config").path("errors").get(0);
                assertEquals("must be a duration like 500ms, 15s, 5m, 2h or 7d, got \"-5s\"", err.path("message").asText());
                assertTrue(agent.log().contains("config rejected: /fleets/bad/config/sensors/c $.interval"), agent.log());

                // A good document made bad: its last good version keeps running at 10 readings/s.
                fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"5 s\", \"colour\": \"red\"}");
                Await.until(Duration.ofSeconds(10), "a's errors in the status",
                        () -> hasError(fleet, "/fleets/bad/config/sensors/a", "$.colour") && hasError(fleet, "/fleets/bad/config/sensors/a", "$.interval"));
                assertEquals(0, status(fleet, "gw-1").path("config").path("fleetVersion").asLong(), "the version in force is the good one");
                int n = rec.on(t + "sensors/a").size();
                Await.until(Duration.ofSeconds(5), "a still at 100ms", () -> rec.on(t + "sensors/a").size() >= n + 15);
                assertTrue(rec.on(t + "sensors/c").isEmpty(), "a rejected sensor ran");

                // Fixed: the errors clear and both run.
                fleet.fleetSensor("c", "{\"driver\": \"simulated\", \"interval\": \"200ms\"}");
                fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"100ms\"}");
                Await.until(Duration.ofSeconds(10), "no errors",
                        () -> status(fleet, "gw-1").path("config").path("errors").isEmpty());
                rec.await(Duration.ofSeconds(10), 3, m -> m.topic().equals(t + "sensors/c"));
            }
        }
    }

    @Test
    void aBurstOfChangesBecomesOneApply() throws Exception {
        try (Fleet fleet = new Fleet("burst", zk, work)) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"1s\"}");
            try (AgentProcess agent = start(fleet, "gw-1")) {
                Await.until(Duration.ofSeconds(30), "first apply", () -> fleet.status("gw-1").isPresent(), agent::log);
                int before = count(agent.log(), "config applied");
                // Ten documents in one transaction: ten notifications within a few milliseconds.
                var ops = new java.util.ArrayList<org.apache.curator.framework.api.transaction.CuratorOp>();
                for (int i = 0; i < 10; i++) {
                    ops.add(fleet.operator().transactionOp().create().forPath("/fleets/burst/config/sensors/s" + i,
                            "{\"driver\": \"simulated\", \"interval\": \"1s\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                }
                fleet.operator().transaction().forOperations(ops);
                Await.until(Duration.ofSeconds(10), "all ten running",
                        () -> status(fleet, "gw-1").path("sensors").size() == 11, () -> fleet.status("gw-1").toString());
                Thread.sleep(500); // any straggling apply would show by now
                int applies = count(agent.log(), "config applied") - before;
                // One apply as a rule; two when the ten reads straddle the 5 ms window on a loaded machine.
                assertTrue(applies >= 1 && applies <= 2, applies + " applies for one burst:\n" + agent.log());
            }
        }
    }

    static boolean hasError(Fleet fleet, String znode, String path) {
        for (JsonNode e : fleet.status("gw-1").map(s -> s.path("config").path("errors")).orElseThrow()) {
            if (e.path("znode").asText().equals(znode) && e.path("path").asText().equals(path)) return true;
        }
        return false;
    }
}
