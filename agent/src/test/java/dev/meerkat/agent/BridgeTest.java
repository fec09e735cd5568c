package dev.meerkat.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.meerkat.agent.bridge.Reading;
import dev.meerkat.config.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class BridgeTest {
    @Test
    void aReadingIsTheSpecPayload() {
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("temperature", 21.37);
        values.put("humidity", 40.1);
        Map<String, String> units = new LinkedHashMap<>();
        units.put("temperature", "Cel");
        units.put("humidity", "%RH");
        Reading r = new Reading("gw-0042", "s1", 1042, Instant.parse("2026-11-21T15:00:05Z"), values, units, OptionalLong.of(7));
        assertEquals("{\"device\":\"gw-0042\",\"sensor\":\"s1\",\"seq\":1042,\"ts\":\"2026-11-21T15:00:05.000Z\","
                        + "\"values\":{\"temperature\":21.37,\"humidity\":40.1},\"units\":{\"temperature\":\"Cel\",\"humidity\":\"%RH\"},"
                        + "\"lockToken\":7}",
                new String(Json.write(r.toJson()), StandardCharsets.UTF_8));
        assertEquals(new String(Json.write(r.toJson()), StandardCharsets.UTF_8), new String(r.payload(), StandardCharsets.UTF_8),
                "the payload written directly is the same");
    }
}
