package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import dev.meerkat.coordination.testing.ZooKeeperEnsemble;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.MqttBroker;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.test.fixtures.RecordingSubscriber.Message;
import dev.meerkat.test.fixtures.Servers;
import dev.meerkat.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One real gateway end to end: the distribution's launcher runs {@code meerkat run} against a
 * 3-server ZooKeeper ensemble and a real MQTT broker.
 */
class GatewayEndToEndTest {
    static final String FLEET = "e2e";
    static Servers servers;
    static ZooKeeperEnsemble zk;
    static MqttBroker mqtt;
    static Fleet fleet;
    static CuratorFramework operator;
    static Path work;

    @BeforeAll
    static void servers() throws Exception {
        servers = Servers.start("e2e");
        work = servers.work();
        zk = servers.zk();
        mqtt = servers.mqtt();
        fleet = new Fleet(FLEET, zk, work);
        operator = fleet.operator();
        fleet.fleetAgent("{\"mqtt\": {\"topicPrefix\": \"meerkat\", \"qos\": 1}}");
        fleet.fleetSensor("climate", """
                {"driver": "simulated", "interval": "200ms",
                 "settings": {"values": {"temperature": {"base": 21, "noise": 0.2, "unit": "Cel"},
                                         "humidity": {"base": 40, "noise": 1, "unit": "%RH"}}}}""");
        fleet.fleetSensor("off-here", "{\"driver\": \"simulated\", \"interval\": \"200ms\"}");
        fleet.deviceSensor("gw-1", "off-here", "{\"enabled\": false}");
        fleet.deviceSensor("gw-1", "door", "{\"driver\": \"simulated\", \"interval\": \"300ms\"}");
    }

    @AfterAll
    static void stop() {
        if (fleet != null) fleet.close();
        if (servers != null) servers.close();
    }

    static Path bootstrap(String device, String sessionTimeout) throws Exception {
        return fleet.bootstrap(device, zk.connectString(), sessionTimeout, mqtt.uri());
    }

    static Stat member(String device) {
        return fleet.member(device);
    }

    @Test
    void registersPublishesInSeqOrderAndStopsCleanlyOnSigterm() throws Exception {
        String topics = "meerkat/" + FLEET + "/gw-1/";
        try (RecordingSubscriber rec = new RecordingSubscriber(mqtt.uri(), topics + "#", 1);
             AgentProcess agent = AgentProcess.start(work.resolve("gw-1.log"), "run", "--config",
                     bootstrap("gw-1", "20s").toString())) {

            // Registered: the ephemeral member znode, with the metadata of SPEC §5.
            Await.until(Duration.ofSeconds(30), "member znode of gw-1", () -> member("gw-1") != null, agent::log);
            Stat stat = member("gw-1");
            assertTrue(stat.getEphemeralOwner() != 0, "the member znode must be ephemeral");
            JsonNode info = Json.mapper().readTree(operator.getData().forPath("/fleets/" + FLEET + "/members/gw-1"));
            assertEquals("gw-1", info.path("device").asText());
            assertEquals(FLEET, info.path("fleet").asText());
            assertEquals("0.1.0", info.path("agentVersion").asText());
            assertTrue(info.path("startedAt").isTextual());

            // Readings of each running sensor, seq growing by one; the switched-off sensor never runs here.
            List<Message> climate = rec.await(Duration.ofSeconds(30), 10, m -> m.topic().equals(topics + "sensors/climate"));
            List<Message> door = rec.await(Duration.ofSeconds(30), 5, m -> m.topic().equals(topics + "sensors/door"));
            assertSeqGrowsByOne(climate);
            assertSeqGrowsByOne(door);
            JsonNode first = climate.get(0).json();
            assertEquals("gw-1", first.path("device").asText());
            assertEquals("climate", first.path("sensor").asText());
            assertEquals("Cel", first.path("units").path("temperature").asText());
            assertTrue(first.path("values").path("humidity").isNumber());
            Instant ts = Instant.parse(first.path("ts").asText());
            assertTrue(Duration.between(ts, Instant.now()).abs().toSeconds() < 60, "ts is the sample time: " + ts);
            assertTrue(rec.on(topics + "sensors/off-here").isEmpty(), "a sensor switched off for this device ran");

            // The retained status says online.
            assertEquals("online", retainedStatus(topics + "status").path("state").asText());

            // SIGTERM: member znode gone at once (the session timeout is 20s), offline published, exit 0.
            long before = climate.get(climate.size() - 1).json().path("seq").asLong();
            agent.signal("TERM");
            Duration gone = Await.time(Duration.ofSeconds(8), "member znode deleted on SIGTERM", () -> member("gw-1") == null);
            assertEquals(0, agent.waitFor(Duration.ofSeconds(10)), agent.log());
            assertTrue(gone.toMillis() < 8000, "deleted after " + gone);
            assertEquals("offline", retainedStatus(topics + "status").path("state").asText());

            // seq survives a restart: the next run goes on from where this one stopped.
            long lastSent = rec.on(topics + "sensors/climate").stream().mapToLong(m -> m.json().path("seq").asLong()).max().orElseThrow();
            assertTrue(lastSent >= before);
            try (AgentProcess again = AgentProcess.start(work.resolve("gw-1-again.log"), "run", "--config",
                    bootstrap("gw-1", "20s").toString())) {
                List<Message> after = rec.await(Duration.ofSeconds(30), 1,
                        m -> m.topic().equals(topics + "sensors/climate") && m.json().path("seq").asLong() > lastSent);
                assertEquals(lastSent + 1, after.get(0).json().path("seq").asLong(), "seq after restart");
                again.signal("TERM");
                assertEquals(0, again.waitFor(Duration.ofSeconds(10)), again.log());
            }
        }
    }

    @Test
    void killedAgentLeavesItsWillAndItsMemberZnodeGoesWithTheSession() throws Exception {
        String topics = "meerkat/" + FLEET + "/gw-2/";
        try (AgentProcess agent = AgentProcess.start(work.resolve("gw-2.log"), "run", "--config",
                bootstrap("gw-2", "4s").toString());
             RecordingSubscriber rec = new RecordingSubscriber(mqtt.uri(), topics + "status", 1)) {
            Await.until(Duration.ofSeconds(30), "member znode of gw-2", () -> member("gw-2") != null, agent::log);
            rec.await(Duration.ofSeconds(30), 1, m -> "online".equals(m.json().path("state").asText()));
            agent.signal("KILL");
            agent.waitFor(Duration.ofSeconds(10));
            // The broker publishes the last will; ZooKeeper removes the znode when the session times out.
            rec.await(Duration.ofSeconds(15), 1, m -> "offline".equals(m.json().path("state").asText()));
            if (mqtt.retainsWills()) assertEquals("offline", retainedStatus(topics + "status").path("state").asText());
            assertNotNull(member("gw-2"), "a crashed agent's znode stays until its session times out");
            Await.until(Duration.ofSeconds(20), "member znode gone after the session timeout", () -> member("gw-2") == null);
        }
    }

    /**
     * The service's memory (docs/benchmarks.md, "Footprint"): a plain {@code meerkat run} reads and
     * writes its JSON without Jackson's ObjectMapper and takes its arguments without picocli, through
     * start, readings, a change applied, a document refused, the commands that ask the agent
     * ({@code config show}, {@code status}, {@code sensors}) and a clean stop.
     */
    @Test
    void theServiceNeverLoadsJacksonsMapperNorPicocli() throws Exception {
        Path classes = work.resolve("gw-5-classes.log");
        String topics = "meerkat/" + FLEET + "/gw-5/";
        Path boot = bootstrap("gw-5", "20s");
        try (RecordingSubscriber rec = new RecordingSubscriber(mqtt.uri(), topics + "#", 1);
             AgentProcess agent = AgentProcess.start(work.resolve("gw-5.log"),
                     java.util.Map.of("JAVA_TOOL_OPTIONS", "-Xlog:class+load:file=" + classes), "run", "--config", boot.toString())) {
            rec.await(Duration.ofSeconds(30), 3, m -> m.topic().equals(topics + "sensors/climate"));
            Await.until(Duration.ofSeconds(30), "the status of gw-5", () -> fleet.status("gw-5").isPresent(), agent::log);

            fleet.deviceSensor("gw-5", "extra", "{\"driver\": \"simulated\", \"interval\": \"250ms\"}");
            rec.await(Duration.ofSeconds(30), 2, m -> m.topic().equals(topics + "sensors/extra"));
            fleet.deviceSensor("gw-5", "broken", "{\"driver\": \"simulated\", \"interval\": [5], \"bogus\": {\"a\": 1}}");
            Await.until(Duration.ofSeconds(30), "the refused document in the status", () -> fleet.status("gw-5")
                    .map(s -> s.path("config").path("errors").toString().contains("sensors/broken")).orElse(false), agent::log);

            Path show = work.resolve("gw-5-show.log");
            assertEquals(0, AgentProcess.run(show, Duration.ofSeconds(30), "config", "show", "--config", boot.toString(), "--json"));
            assertTrue(Files.readString(show).contains("/devices/gw-5/config/sensors/extra\""), Files.readString(show));
            Path status = work.resolve("gw-5-status.log");
            assertEquals(1, AgentProcess.run(status, Duration.ofSeconds(30), "status", "--json", "--config", boot.toString()),
                    "status fails while a document is refused: " + Files.readString(status));
            assertTrue(Files.readString(status).contains("sensors/broken"), Files.readString(status));
            for (String[] command : new String[][] {{"sensors", "list", "--json"}, {"sensors", "read", "climate", "--json"}}) {
                Path out = work.resolve("gw-5-" + String.join("-", command) + ".log");
                List<String> args = new java.util.ArrayList<>(List.of(command));
                args.addAll(List.of("--config", boot.toString()));
                assertEquals(0, AgentProcess.run(out, Duration.ofSeconds(30), args.toArray(String[]::new)), Files.readString(out));
            }

            agent.signal("TERM");
            assertEquals(0, agent.waitFor(Duration.ofSeconds(10)), agent.log());
        }
        String loaded = Files.readString(classes);
        // The control: the log has the classes the agent loads, Jackson's tree among them.
        assertTrue(loaded.contains("] dev.meerkat.config.Json source:"), "no class log? " + classes);
        assertTrue(loaded.contains("] com.fasterxml.jackson.databind.JsonNode source:"), "no class log? " + classes);
        assertFalse(loaded.contains("] com.fasterxml.jackson.databind.ObjectMapper source:"), "the agent loaded Jackson's ObjectMapper");
        assertFalse(loaded.contains("] picocli."), "the agent loaded picocli");
    }

    @Test
    void aBadBootstrapConfigIsRefusedWithTheKey() throws Exception {
        Path bad = work.resolve("bad.yaml");
        Files.writeString(bad, "device:\n  id: GW_1\n  fleet: f\nzookeeper:\n  connect: a:1\n  sessionTimeout: 15 s\nmqtt:\n  uri: http://x\n  bogus: 1\n");
        Path log = work.resolve("bad.log");
        assertEquals(1, AgentProcess.run(log, Duration.ofSeconds(30), "run", "--config", bad.toString()));
        String out = Files.readString(log);
        assertTrue(out.contains("$.device.id"), out);
        assertTrue(out.contains("$.zookeeper.sessionTimeout"), out);
        assertTrue(out.contains("$.mqtt.uri"), out);
        assertTrue(out.contains("$.mqtt.bogus: is not a known key"), out);
        assertFalse(out.contains("Exception"), "a config error is a message, not a stack trace:\n" + out);
    }

    /**
     * The retained message on {@code topic}, as a new subscriber gets it (a message published while
     * it subscribes arrives unretained and is not counted); the state is "none" when there is none.
     * QoS 0: Moquette 0.17 (the fallback broker) clears the retain flag on retained messages it
     * sends to a QoS 1 subscription, against MQTT 3.1.1 [MQTT-3.3.1-8].
     */
    static JsonNode retainedStatus(String topic) {
        try (RecordingSubscriber fresh = new RecordingSubscriber(mqtt.uri(), topic, 0)) {
            try {
                return fresh.await(Duration.ofSeconds(2), 1, m -> m.topic().equals(topic) && m.retained()).get(0).json();
            } catch (AssertionError none) {
                return Json.mapper().createObjectNode().put("state", "none");
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void assertSeqGrowsByOne(List<Message> readings) {
        long prev = -1;
        for (Message m : readings) {
            long seq = m.json().path("seq").asLong();
            if (prev >= 0) assertEquals(prev + 1, seq, "seq on " + m.topic());
            prev = seq;
        }
    }

    /** Under systemd (Type=notify, WatchdogSec=): READY=1 with a status line, pings while alive, STOPPING=1. */
    @Test
    void underSystemdItSaysReadyPingsWhileAliveAndStopping() throws Exception {
        try (dev.meerkat.test.fixtures.NotifySocket systemd = new dev.meerkat.test.fixtures.NotifySocket(work.resolve("notify.sock"));
             AgentProcess agent = AgentProcess.start(fleet.log("gw-9"),
                     java.util.Map.of("NOTIFY_SOCKET", systemd.path().toString(), "WATCHDOG_USEC", "1000000"),
                     "run", "--config", bootstrap("gw-9", "20s").toString())) {
            Await.until(Duration.ofSeconds(60), "READY=1, a status saying registered, and pings after it", () -> {
                List<String> m = systemd.messages();
                int ready = m.indexOf(m.stream().filter(x -> x.startsWith("READY=1\nSTATUS=")).findFirst().orElse("-"));
                return ready >= 0 && m.subList(ready, m.size()).stream().filter("WATCHDOG=1"::equals).count() >= 3
                        && m.stream().anyMatch(x -> x.contains("registered, config ") && !x.contains("not registered"));
            }, () -> systemd.messages() + "\n" + agent.log());
            agent.signal("TERM");
            assertEquals(0, agent.waitFor(Duration.ofSeconds(20)));
            Await.until(Duration.ofSeconds(5), "STOPPING=1", () -> systemd.messages().contains("STOPPING=1"), () -> systemd.messages().toString());
            assertFalse(agent.log().contains("restricted method"), "the launcher enables native access:\n" + agent.log());
        }
    }
}
