package dev.meerkat.agent.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.meerkat.agent.journal.Journal;
import dev.meerkat.agent.journal.Record;
import dev.meerkat.agent.mqtt.PahoTransport;
import dev.meerkat.config.Json;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How readings become MQTT messages: one each, or batched per topic (SPEC §4 {@code publish.batch}). */
class OutboxBatchTest {
    @TempDir
    Path dir;

    static Record r(long id, String sensor, long seq, long ts) {
        return new Record(id, sensor, seq, ts, "p/f/d/sensors/" + sensor, 1,
                ("{\"sensor\":\"" + sensor + "\",\"seq\":" + seq + "}").getBytes(StandardCharsets.UTF_8));
    }

    Outbox outbox(Journal j) throws Exception {
        // Never started: only its message building is used.
        return new Outbox(new PahoTransport(URI.create("tcp://127.0.0.1:1"), "t", 30), j, "s", false, "0", Clock.systemUTC(), () -> {});
    }

    @Test
    void withoutBatchingEveryReadingIsItsOwnMessage() throws Exception {
        try (Journal j = Journal.open(Journal.Options.of(dir, 1 << 20, Duration.ofDays(1)), Clock.systemUTC())) {
            Outbox o = outbox(j);
            List<Outbox.Message> m = o.messages(List.of(r(1, "a", 1, 0), r(2, "b", 1, 0)));
            assertEquals(2, m.size());
            assertEquals("{\"sensor\":\"a\",\"seq\":1}", new String(m.get(0).payload(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void batchesAreJsonArraysOfOneSensorInSeqOrderUpToMaxMessages() throws Exception {
        try (Journal j = Journal.open(Journal.Options.of(dir, 1 << 20, Duration.ofDays(1)), Clock.systemUTC())) {
            Outbox o = outbox(j);
            o.batching(3, Duration.ZERO);
            List<Record> records = new ArrayList<>();
            long id = 1;
            for (int seq = 1; seq <= 4; seq++) {
                records.add(r(id++, "a", seq, 0));
                records.add(r(id++, "b", seq, 0));
            }
            List<Outbox.Message> m = o.messages(records);
            assertEquals(4, m.size()); // a: 3 + 1, b: 3 + 1
            var first = Json.mapper().readTree(m.get(0).payload());
            assertEquals(3, first.size());
            assertEquals("a", first.get(0).path("sensor").asText());
            for (int k = 0; k < 3; k++) assertEquals(k + 1, first.get(k).path("seq").asInt());
            assertEquals(4, Json.mapper().readTree(m.get(1).payload()).get(0).path("seq").asInt());
            assertEquals("p/f/d/sensors/b", m.get(2).topic());
        }
    }

    @Test
    void aShortBatchWaitsAtMostMaxDelay() throws Exception {
        try (Journal j = Journal.open(Journal.Options.of(dir, 1 << 20, Duration.ofDays(1)), Clock.systemUTC())) {
            Outbox o = outbox(j);
            o.batching(10, Duration.ofSeconds(5));
            long now = System.currentTimeMillis();
            assertNull(o.messages(List.of(r(1, "a", 1, now))), "young and short: wait for more");
            assertNotNull(o.messages(List.of(r(1, "a", 1, now - 6_000))), "older than maxDelay: send now");
        }
    }
}
