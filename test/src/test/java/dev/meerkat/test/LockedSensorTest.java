package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.test.fixtures.Servers;
import dev.meerkat.testing.Await;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two real gateways share one sensor under a lock (SPEC §6): every reading carries its hold's
 * fencing token, tokens grow with the time the samples were taken, and when ZooKeeper goes away
 * the sensor stops being read within the hold's lease, and is read again once it is back.
 */
class LockedSensorTest {
    static Servers servers;
    static Fleet fleet;

    @BeforeAll
    static void start() throws Exception {
        servers = Servers.start("locked");
        fleet = new Fleet("locked", servers.zk(), servers.work());
        fleet.fleetSensor("shared", """
                {"driver": "simulated", "interval": "100ms", "lock": "site-1/i2c-1/0x76"}""");
    }

    @AfterAll
    static void stop() {
        if (fleet != null) fleet.close();
        if (servers != null) servers.close();
    }

    @Test
    void readingsCarryGrowingTokensAndStopWithoutZooKeeper() throws Exception {
        String uri = servers.mqtt().uri();
        try (RecordingSubscriber rec = RecordingSubscriber.durable(uri, "meerkat/locked/+/sensors/shared", 1);
             AgentProcess a = AgentProcess.start(fleet.log("gw-1"), "run", "--config",
                     fleet.bootstrap("gw-1", servers.zk().connectString(), "4s", uri).toString());
             AgentProcess b = AgentProcess.start(fleet.log("gw-2"), "run", "--config",
                     fleet.bootstrap("gw-2", servers.zk().connectString(), "4s", uri).toString())) {
            rec.await(Duration.ofSeconds(60), 30, m -> m.topic().contains("/gw-1/"));
            rec.await(Duration.ofSeconds(60), 30, m -> m.topic().contains("/gw-2/"));

            List<JsonNode> readings = rec.messages().stream().map(RecordingSubscriber.Message::json).toList();
            Set<Long> tokens = new HashSet<>();
            for (JsonNode r : readings) {
                assertTrue(r.path("lockToken").isIntegralNumber(), "a reading without its lock token: " + r);
                assertTrue(tokens.add(r.path("lockToken").asLong()), "two readings under one hold: " + r);
            }
            List<JsonNode> byToken = readings.stream().sorted(Comparator.comparingLong(r -> r.path("lockToken").asLong())).toList();
            for (int i = 1; i < byToken.size(); i++) {
                Instant before = Instant.parse(byToken.get(i - 1).path("ts").asText()), after = Instant.parse(byToken.get(i).path("ts").asText());
                assertTrue(!after.isBefore(before), "a later token on an earlier sample: " + byToken.get(i - 1) + " then " + byToken.get(i));
            }

            // The whole ensemble goes: the sensor is not read once the holds' leases (half of 4s) are over.
            for (int i = 0; i < servers.zk().size(); i++) servers.zk().kill(i);
            Instant killed = Instant.now();
            Thread.sleep(6000);
            long maxTokenBefore = tokens.stream().mapToLong(Long::longValue).max().orElseThrow();
            Instant lastTs = rec.messages().stream().map(m -> Instant.parse(m.json().path("ts").asText())).max(Comparator.naturalOrder()).orElseThrow();
            assertTrue(lastTs.isBefore(killed.plusMillis(2000 + 300)), "read at " + lastTs + ", the ensemble went at " + killed);
            int countWhileDown = rec.messages().size();

            for (int i = 0; i < servers.zk().size(); i++) servers.zk().restart(i);
            List<RecordingSubscriber.Message> after = rec.await(Duration.ofSeconds(60), countWhileDown + 20, m -> true);
            long newer = after.stream().skip(countWhileDown).filter(m -> m.json().path("lockToken").asLong() > maxTokenBefore).count();
            assertEquals(after.size() - countWhileDown, newer, "readings after the restart under older tokens");
            Await.until(Duration.ofSeconds(20), "gw-1 reports its shared sensor ok again",
                    () -> fleet.status("gw-1").map(s -> s.path("sensors").path("shared").path("state").asText().equals("ok")).orElse(false));
        }
    }
}
