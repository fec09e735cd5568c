package dev.meerkat.config;

import static dev.meerkat.config.ConfigLayersTest.DRIVERS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing: well-formed documents, mutated at random (characters flipped, dropped, inserted; values
 * swapped for other types, out-of-range numbers, unknown keys, truncation). For every one: no
 * exception escapes, and the document is either accepted, and then valid and in force, or
 * rejected with at least one error that names its znode and a JSON path.
 */
class MutatedDocumentsTest {
    static final List<String> SENSOR_SEEDS = List.of(
            "{\"driver\":\"simulated\",\"interval\":\"5s\",\"qos\":1,\"settings\":{\"seed\":3}}",
            "{\"driver\":\"strict\",\"bus\":{\"i2c\":1,\"address\":\"0x76\"},\"lock\":\"site-7/i2c-1/0x76\",\"settings\":{\"gain\":4}}",
            "{\"driver\":\"simulated\",\"bus\":{\"gpio\":17},\"enabled\":true,\"interval\":\"250ms\"}",
            "{\"enabled\":false}");
    static final List<String> AGENT_SEEDS = List.of(
            "{\"mqtt\":{\"topicPrefix\":\"meerkat\",\"qos\":1,\"retainStatus\":true},\"publish\":{\"format\":\"json\","
                    + "\"batch\":{\"maxMessages\":1,\"maxDelay\":\"0ms\"}},\"buffer\":{\"maxBytes\":\"256MiB\",\"maxAge\":\"7d\","
                    + "\"onFull\":\"drop-oldest\"},\"rollout\":{\"healthTimeout\":\"10m\"},\"logLevel\":\"info\"}",
            "{}");
    static final String NOISE = "{}[],:\"\\ a0-x\u00e9\u0000";
    static final List<String> VALUES = List.of("null", "true", "-1", "0", "1e309", "99999999999", "\"\"", "\"5s\"",
            "\"0x77\"", "[]", "{}", "[1,{\"a\":2}]", "\"\\u0000\"", "-0.5", "\"-5s\"", "\"1GiB\"");

    @Test
    void tenThousandMutatedDocumentsAreAcceptedValidOrRejectedWithAPath() {
        SplittableRandom random = new SplittableRandom(20261121);
        int accepted = 0, rejected = 0;
        for (int i = 0; i < 10_000; i++) {
            boolean sensor = random.nextInt(3) > 0;
            List<String> seeds = sensor ? SENSOR_SEEDS : AGENT_SEEDS;
            String text = mutate(seeds.get(random.nextInt(seeds.size())), random, 1 + random.nextInt(4));
            String znode = sensor ? "/fleets/f/config/sensors/s" + i : "/fleets/f/config/agent";
            ConfigDocument doc = new ConfigDocument(znode, text.getBytes(StandardCharsets.UTF_8), 0);
            ConfigLayer fleet = sensor ? ConfigLayer.of(Optional.empty(), Map.of("s" + i, doc))
                    : ConfigLayer.of(Optional.of(doc), Map.of());
            ConfigLayers.Result r;
            try {
                r = ConfigLayers.build(fleet, ConfigLayer.empty(), DRIVERS);
            } catch (RuntimeException e) {
                throw new AssertionError("an exception escaped for " + text, e);
            }
            List<ConfigError> own = r.errors().stream().filter(e -> e.source().equals(znode)).toList();
            if (r.used().containsKey(znode)) {
                accepted++;
                assertEquals(List.of(), r.errors(), "accepted, yet with errors: " + text);
                if (sensor) {
                    boolean enabled = parse(text).path("enabled").asBoolean(true);
                    assertEquals(enabled, r.config().sensors().containsKey("s" + i), "accepted and enabled means running: " + text);
                }
            } else {
                rejected++;
                assertFalse(own.isEmpty(), "rejected without an error naming " + znode + ": " + text + " " + r.errors());
                for (ConfigError e : own) {
                    if (!e.path().startsWith("$")) fail("not a JSON path: " + e + " for " + text);
                    if (e.message().isBlank()) fail("no message: " + e);
                }
            }
        }
        assertEquals(10_000, accepted + rejected);
        assertTrue(rejected > 5_000 && accepted > 100, "the mutations should mostly break documents, and not all: "
                + accepted + " accepted, " + rejected + " rejected");
    }

    static com.fasterxml.jackson.databind.JsonNode parse(String text) {
        try {
            return Json.mapper().readTree(text);
        } catch (java.io.IOException e) {
            throw new AssertionError("accepted, yet not JSON: " + text, e);
        }
    }

    static String mutate(String seed, SplittableRandom random, int times) {
        StringBuilder s = new StringBuilder(seed);
        for (int t = 0; t < times && !s.isEmpty(); t++) {
            int at = random.nextInt(s.length());
            switch (random.nextInt(8)) {
                case 0 -> s.deleteCharAt(at);
                case 1 -> s.insert(at, NOISE.charAt(random.nextInt(NOISE.length())));
                case 2 -> s.setCharAt(at, (char) (32 + random.nextInt(95)));
                case 3 -> s.setLength(at);
                case 4 -> replaceValue(s, random);
                case 5 -> {
                    int brace = s.indexOf("{");
                    if (brace >= 0) s.insert(brace + 1, "\"k" + random.nextInt(5) + "\":" + VALUES.get(random.nextInt(VALUES.size())) + ",");
                }
                case 6 -> replaceValue(s, random);
                default -> {
                    int colon = s.indexOf(":", at);
                    if (colon > 0) s.insert(colon + 1, "[");
                }
            }
        }
        return s.toString();
    }

    /** Replaces the value after a random colon with a value of another type or range. */
    static void replaceValue(StringBuilder s, SplittableRandom random) {
        int colon = s.indexOf(":", random.nextInt(s.length()));
        if (colon < 0) return;
        int end = colon + 1;
        int depth = 0;
        boolean inString = false;
        while (end < s.length()) {
            char c = s.charAt(end);
            if (inString) {
                if (c == '\\') end++;
                else if (c == '"') inString = false;
            } else if (c == '"') inString = true;
            else if (c == '{' || c == '[') depth++;
            else if (c == '}' || c == ']') {
                if (depth == 0) break;
                depth--;
            } else if (c == ',' && depth == 0) break;
            end++;
        }
        s.replace(colon + 1, Math.min(end, s.length()), VALUES.get(random.nextInt(VALUES.size())));
    }
}
