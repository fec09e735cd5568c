package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.MosquittoBroker;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.test.fixtures.ServersPerTest;
import dev.meerkat.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.tahu.host.HostApplication;
import org.eclipse.tahu.host.api.HostApplicationEventHandler;
import org.eclipse.tahu.message.SparkplugBPayloadDecoder;
import org.eclipse.tahu.message.model.DeviceDescriptor;
import org.eclipse.tahu.message.model.EdgeNodeDescriptor;
import org.eclipse.tahu.message.model.Message;
import org.eclipse.tahu.message.model.MessageType;
import org.eclipse.tahu.message.model.Metric;
import org.eclipse.tahu.message.model.MetricDataType;
import org.eclipse.tahu.message.model.SparkplugBPayload;
import org.eclipse.tahu.message.model.SparkplugDescriptor;
import org.eclipse.tahu.message.model.Topic;
import org.eclipse.tahu.model.MqttServerDefinition;
import org.eclipse.tahu.mqtt.MqttClientId;
import org.eclipse.tahu.mqtt.MqttServerName;
import org.eclipse.tahu.mqtt.MqttServerUrl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code publish.format} {@code sparkplug-b} against a real Sparkplug host: Eclipse Tahu's host
 * application (the primary host "scada") and a recording subscriber on mosquitto, the agent a real
 * process. NBIRTH then DBIRTH with every metric, DDATA matching the readings, no seq gap; a rebirth
 * request answered; the primary host offline and a broker outage, each ending with the readings of
 * that time delivered as historical metrics, in order, none missing; {@code kill -9} giving an
 * NDEATH whose bdSeq is the last NBIRTH's.
 */
class SparkplugTest {
    @RegisterExtension
    final ServersPerTest servers = new ServersPerTest("sparkplug");

    /** What the recording subscriber saw, decoded. */
    record Seen(String type, String device, SparkplugBPayload payload, int qos, boolean retained, long at) {
        Long seq() {
            return payload.getSeq();
        }

        Metric metric(String name) {
            return payload.getMetrics().stream().filter(m -> name.equals(m.getName())).findFirst().orElse(null);
        }
    }

    static List<Seen> decode(RecordingSubscriber rec) throws Exception {
        List<Seen> out = new ArrayList<>();
        for (RecordingSubscriber.Message m : rec.messages()) {
            String[] t = m.topic().split("/");
            if (t.length < 4 || !t[0].equals("spBv1.0") || t[1].equals("STATE")) continue;
            out.add(new Seen(t[2], t.length > 4 ? t[4] : null, new SparkplugBPayloadDecoder().buildFromByteArray(m.payload(), null), m.qos(),
                    m.retained(), 0));
        }
        return out;
    }

    static List<Seen> of(List<Seen> all, String type) {
        return all.stream().filter(s -> s.type().equals(type)).toList();
    }

    static long bdSeq(Seen s) {
        return ((Number) s.metric("bdSeq").getValue()).longValue();
    }

    /** Tahu's host, recording what it was told. */
    static final class Host implements HostApplicationEventHandler {
        final List<String> events = new CopyOnWriteArrayList<>();

        long count(String prefix) {
            return events.stream().filter(e -> e.startsWith(prefix)).count();
        }

        @Override public void onConnect() { events.add("connect"); }
        @Override public void onDisconnect() { events.add("disconnect"); }
        @Override public void onMessage(SparkplugDescriptor d, Message m) {}
        @Override public void onNodeBirthArrived(EdgeNodeDescriptor d, Message m) { events.add("nbirth " + d); }
        @Override public void onNodeBirthComplete(EdgeNodeDescriptor d) {}
        @Override public void onNodeDataArrived(EdgeNodeDescriptor d, Message m) {}
        @Override public void onNodeDataComplete(EdgeNodeDescriptor d) {}
        @Override public void onNodeDeath(EdgeNodeDescriptor d, Message m) { events.add("ndeath " + d); }
        @Override public void onNodeDeathComplete(EdgeNodeDescriptor d) {}
        @Override public void onDeviceBirthArrived(DeviceDescriptor d, Message m) { events.add("dbirth " + d); }
        @Override public void onDeviceBirthComplete(DeviceDescriptor d) {}
        @Override public void onDeviceDataArrived(DeviceDescriptor d, Message m) { events.add("ddata " + d); }
        @Override public void onDeviceDataComplete(DeviceDescriptor d) {}
        @Override public void onDeviceDeath(DeviceDescriptor d, Message m) {}
        @Override public void onDeviceDeathComplete(DeviceDescriptor d) {}
        @Override public void onBirthMetric(SparkplugDescriptor d, Metric m) {}
        @Override public void onDataMetric(SparkplugDescriptor d, Metric m) {}
        @Override public void onStale(SparkplugDescriptor d, Metric m) { events.add("stale " + d); }
    }

    @Test
    void anEdgeNodeThatAHostUnderstandsAndThatLosesNothing() throws Exception {
        // A broker of its own that queues QoS 0 for the recording subscriber's session while it is away: after the
        // broker's restart, the node may be born before the subscriber is back, and nothing must be missed by it.
        try (MosquittoBroker broker = new MosquittoBroker(MosquittoBroker.find().orElseThrow(), servers.work().resolve("mqtt-q0"),
                List.of("queue_qos0_messages true"));
             Fleet fleet = new Fleet("sp", servers.zk(), servers.work());
             RecordingSubscriber rec = RecordingSubscriber.durable(broker.uri(), "spBv1.0/#", 1)) {
            Host events = new Host();
            HostApplication host = new HostApplication(events, "scada", List.of("spBv1.0/sp/#"),
                    List.of(new MqttServerDefinition(new MqttServerName("mosquitto"), new MqttClientId("scada-" + System.nanoTime(), false),
                            new MqttServerUrl(broker.uri()), null, null, 30, null)),
                    null, new SparkplugBPayloadDecoder(), true);
            host.start(true);
            try {
                Await.until(Duration.ofSeconds(30), "the host's STATE online",
                        () -> rec.on("spBv1.0/STATE/scada").stream().anyMatch(m -> m.text().contains("\"online\":true")));
                fleet.fleetAgent("{\"publish\": {\"format\": \"sparkplug-b\", \"sparkplug\": {\"primaryHostId\": \"scada\"}}}");
                fleet.fleetSensor("climate", "{\"driver\": \"simulated\", \"interval\": \"200ms\", \"settings\": {\"values\": {"
                        + "\"temperature\": {\"base\": 21, \"unit\": \"Cel\"}, \"humidity\": {\"base\": 40, \"unit\": \"%RH\"}}}}");
                Path boot = fleet.bootstrap("gw-1", servers.zk().connectString(), "10s", broker.uri());
                AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString());
                try {
                    Await.until(Duration.ofSeconds(60), "NBIRTH, DBIRTH and readings", () -> of(decodeQuietly(rec), "DDATA").size() >= 10, agent::log);
                    List<Seen> all = decode(rec);
                    Seen nbirth = of(all, "NBIRTH").get(0);
                    assertEquals(0L, nbirth.seq(), "NBIRTH seq 0");
                    assertEquals(0, nbirth.qos());
                    assertFalse(nbirth.retained());
                    assertEquals(MetricDataType.Int64, nbirth.metric("bdSeq").getDataType());
                    assertEquals(Boolean.FALSE, nbirth.metric("Node Control/Rebirth").getValue());
                    assertEquals(MetricDataType.Boolean, nbirth.metric("Node Control/Rebirth").getDataType());
                    Seen dbirth = of(all, "DBIRTH").get(0);
                    assertEquals("climate", dbirth.device());
                    assertTrue(all.indexOf(nbirth) < all.indexOf(dbirth) && all.indexOf(dbirth) < all.indexOf(of(all, "DDATA").get(0)), "NBIRTH, DBIRTH, DDATA");
                    assertEquals(MetricDataType.Double, dbirth.metric("temperature").getDataType());
                    assertEquals("Cel", dbirth.metric("temperature").getProperties().getPropertyValue("engUnit").getValue());
                    assertEquals("%RH", dbirth.metric("humidity").getProperties().getPropertyValue("engUnit").getValue());
                    Seen data = of(all, "DDATA").get(0);
                    double t = (Double) data.metric("temperature").getValue();
                    assertTrue(t > 15 && t < 27, "a temperature around 21: " + t);
                    assertNotNull(data.metric("temperature").getTimestamp(), "every metric has its timestamp (the sample time)");
                    assertTrue(data.metric("temperature").getProperties().getPropertyValue("seq").getValue() instanceof Number, "the reading's seq");
                    // meerkat status: the format, the node's bdSeq and seq, the primary host's state.
                    Path out = servers.work().resolve("status.json");
                    assertEquals(0, AgentProcess.run(out, Duration.ofSeconds(60), "status", "--config", boot.toString(), "--json"));
                    com.fasterxml.jackson.databind.JsonNode publish = dev.meerkat.config.Json.tree(java.nio.file.Files.readAllBytes(out)).path("publish");
                    assertEquals("sparkplug-b", publish.path("format").asText(), publish.toString());
                    assertEquals(bdSeq(nbirth), publish.path("sparkplug").path("bdSeq").asLong(-1), publish.toString());
                    assertTrue(publish.path("sparkplug").path("seq").isNumber(), publish.toString());
                    assertEquals("online", publish.path("sparkplug").path("primaryHost").path("state").asText(), publish.toString());
                    Await.until(Duration.ofSeconds(10), "the host took the births and data",
                            () -> events.count("nbirth") >= 1 && events.count("dbirth") >= 1 && events.count("ddata") >= 5, events.events::toString);

                    // A rebirth request from the host: NBIRTH again, seq 0, the same bdSeq.
                    SparkplugBPayload rebirth = new SparkplugBPayload.SparkplugBPayloadBuilder().setTimestamp(new Date())
                            .addMetric(new Metric.MetricBuilder("Node Control/Rebirth", MetricDataType.Boolean, true).createMetric()).createPayload();
                    host.publishCommand(new Topic("spBv1.0", "sp", "gw-1", MessageType.NCMD), rebirth);
                    Await.until(Duration.ofSeconds(20), "a second NBIRTH", () -> of(decodeQuietly(rec), "NBIRTH").size() >= 2, agent::log);
                    Seen second = of(decode(rec), "NBIRTH").get(1);
                    assertEquals(0L, second.seq());
                    assertEquals(bdSeq(nbirth), bdSeq(second), "a rebirth keeps the session's bdSeq");

                    // The primary host goes offline: NDEATH, nothing sent; back: a new session, the readings of that time historical.
                    host.setOnlineState(false);
                    Await.until(Duration.ofSeconds(20), "NDEATH when the host went", () -> !of(decodeQuietly(rec), "NDEATH").isEmpty(), agent::log);
                    Seen death = of(decode(rec), "NDEATH").get(0);
                    assertEquals(bdSeq(nbirth), bdSeq(death), "NDEATH's bdSeq is the session's");
                    assertEquals(1, death.qos(), "NDEATH at QoS 1");
                    assertEquals(null, death.seq(), "NDEATH has no seq");
                    int before = of(decode(rec), "DDATA").size();
                    Thread.sleep(2000); // readings are taken, none is sent: the host is away
                    assertEquals(before, of(decode(rec), "DDATA").size(), "nothing published while the primary host is offline");
                    host.setOnlineState(true);
                    Await.until(Duration.ofSeconds(30), "a new session after the host came back", () -> of(decodeQuietly(rec), "NBIRTH").size() >= 3, agent::log);
                    assertEquals((bdSeq(nbirth) + 1) % 256, bdSeq(of(decode(rec), "NBIRTH").get(2)), "the next session's bdSeq");
                    Await.until(Duration.ofSeconds(30), "historical readings", () -> historical(afterLastBirth(decodeQuietly(rec))) >= 5, agent::log); // the 2 s away: about 10

                    // A broker outage: the readings of that time, historical, after the next birth.
                    broker.stop();
                    Thread.sleep(2000);
                    broker.start();
                    Await.until(Duration.ofSeconds(60), "a new session after the broker came back", () -> of(decodeQuietly(rec), "NBIRTH").size() >= 4, agent::log);
                    // The readings taken while the broker was down come after that birth, historical (about 10 in its 2 s).
                    Await.until(Duration.ofSeconds(30), "the outage's readings, historical, after the new birth",
                            () -> historical(afterLastBirth(decodeQuietly(rec))) >= 5,
                            () -> "seen since the last NBIRTH: " + since(decodeQuietly(rec)) + "\n" + agent.log());
                    Thread.sleep(1000);

                    // No reading missing, each once in order of its seq within a session (Meerkat's seq, a property of each metric).
                    List<Seen> seen = decode(rec);
                    List<Long> seqs = new ArrayList<>();
                    for (Seen s : of(seen, "DDATA")) seqs.add(((Number) s.metric("temperature").getProperties().getPropertyValue("seq").getValue()).longValue());
                    TreeMap<Long, Integer> counted = new TreeMap<>();
                    for (long q : seqs) counted.merge(q, 1, Integer::sum);
                    List<Long> missing = new ArrayList<>();
                    for (long q = counted.firstKey(); q <= counted.lastKey(); q++) if (!counted.containsKey(q)) missing.add(q);
                    assertEquals(List.of(), missing, "readings missing between the first and the last received");
                    // Sparkplug's seq: +1 mod 256 on every message from each NBIRTH on (NDEATH has none).
                    Long prev = null;
                    for (Seen s : seen) {
                        if (!List.of("NBIRTH", "DBIRTH", "DDATA", "NDATA", "DDEATH").contains(s.type())) continue; // NDEATH has none; NCMD is the host's
                        if (s.type().equals("NBIRTH")) assertEquals(0L, s.seq());
                        else if (prev != null) assertEquals((prev + 1) % 256, s.seq(), "seq after " + prev + " (" + s.type() + ")");
                        prev = s.seq();
                    }
                } finally {
                    // kill -9: the broker publishes the will, NDEATH with the bdSeq of the last NBIRTH.
                    long deaths = of(decodeQuietly(rec), "NDEATH").size();
                    agent.signal("KILL");
                    agent.waitFor(Duration.ofSeconds(10));
                    agent.close();
                    Await.until(Duration.ofSeconds(60), "the will's NDEATH after kill -9", () -> of(decodeQuietly(rec), "NDEATH").size() > deaths);
                }
                List<Seen> all = decode(rec);
                List<Seen> births = of(all, "NBIRTH"), deaths = of(all, "NDEATH");
                assertEquals(bdSeq(births.get(births.size() - 1)), bdSeq(deaths.get(deaths.size() - 1)), "the will's bdSeq is the last NBIRTH's");
                Await.until(Duration.ofSeconds(10), "the host saw the node die", () -> events.count("ndeath") >= 2, events.events::toString);
            } finally {
                host.shutdown();
            }
        }
    }

    @Test
    void theFormatChangesLiveAndNoReadingIsLostOnTheWay() throws Exception {
        try (Fleet fleet = new Fleet("sw", servers.zk(), servers.work());
             RecordingSubscriber json = new RecordingSubscriber(servers.mqtt().uri(), "meerkat/sw/gw-1/sensors/#", 1);
             RecordingSubscriber sp = new RecordingSubscriber(servers.mqtt().uri(), "spBv1.0/sw/#", 1)) {
            fleet.fleetSensor("s1", "{\"driver\": \"simulated\", \"interval\": \"100ms\"}");
            Path boot = fleet.bootstrap("gw-1", servers.zk().connectString(), "10s", servers.mqtt().uri());
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                json.await(Duration.ofSeconds(60), 10, m -> true);
                fleet.fleetAgent("{\"publish\": {\"format\": \"sparkplug-b\"}}");
                Await.until(Duration.ofSeconds(30), "Sparkplug readings after the switch", () -> of(decodeQuietly(sp), "DDATA").size() >= 10, agent::log);
                assertEquals("s1", of(decode(sp), "DBIRTH").get(0).device());
                int jsonBefore = json.messages().size();
                fleet.fleetAgent("{\"publish\": {\"format\": \"json\"}}");
                json.await(Duration.ofSeconds(30), jsonBefore + 10, m -> true);
                Thread.sleep(500);
                TreeMap<Long, Integer> seqs = new TreeMap<>();
                for (RecordingSubscriber.Message m : json.messages()) seqs.merge(m.json().path("seq").asLong(), 1, Integer::sum);
                for (Seen s : of(decode(sp), "DDATA")) {
                    seqs.merge(((Number) s.metric("value").getProperties().getPropertyValue("seq").getValue()).longValue(), 1, Integer::sum);
                }
                List<Long> missing = new ArrayList<>();
                for (long q = seqs.firstKey(); q <= seqs.lastKey(); q++) if (!seqs.containsKey(q)) missing.add(q);
                assertEquals(List.of(), missing, "readings missing across json -> sparkplug-b -> json");
                assertTrue(of(decode(sp), "NDEATH").size() >= 1, "the Sparkplug session ended with its NDEATH when the format changed back");
            }
        }
    }

    static List<Seen> afterLastBirth(List<Seen> seen) {
        int last = 0;
        for (int i = 0; i < seen.size(); i++) if (seen.get(i).type().equals("NBIRTH")) last = i;
        return seen.subList(last, seen.size());
    }

    /** What came since the last NBIRTH: types, with H for a historical reading. */
    static String since(List<Seen> seen) {
        StringBuilder b = new StringBuilder();
        for (Seen s : afterLastBirth(seen)) {
            b.append(s.type()).append(s.type().equals("DDATA") && s.metric("temperature") != null
                    && Boolean.TRUE.equals(s.metric("temperature").isHistorical()) ? "(H)" : "").append(' ');
        }
        return b.toString();
    }

    static long historical(List<Seen> seen) {
        return of(seen, "DDATA").stream().filter(s -> Boolean.TRUE.equals(s.metric("temperature").isHistorical())).count();
    }

    static List<Seen> decodeQuietly(RecordingSubscriber rec) {
        try {
            return decode(rec);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
