package dev.meerkat.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RolloutDocumentTest {
    static final String SIG = java.util.Base64.getEncoder().encodeToString(new byte[64]);

    static RolloutDocument parse(String json) throws ConfigException {
        return RolloutDocument.parse(json.getBytes(StandardCharsets.UTF_8), "/fleets/f/rollouts/r");
    }

    @Test
    void readsTheSpecExample() throws Exception {
        RolloutDocument d = parse("""
                { "firmware": "1.5.0",
                  "artifact": { "url": "https://repo.example/meerkat-1.5.0.deb", "sha256": "%s", "signature": "%s" },
                  "installer": "package",
                  "waves": [ 1, "10%%", "50%%", "100%%" ],
                  "maxFailures": "5%%",
                  "healthTimeout": "10m" }""".formatted("AB".repeat(32), SIG));
        assertEquals("1.5.0", d.firmware());
        assertEquals("ab".repeat(32), d.artifact().sha256());
        assertEquals(4, d.waves().size());
        assertEquals(1, d.waves().get(0).of(40));
        assertEquals(4, d.waves().get(1).of(40));
        assertEquals(1, d.waves().get(1).of(5), "a percentage rounds up");
        assertEquals(0, d.maxFailures().floorOf(10), "an allowance rounds down");
        assertEquals(2, d.maxFailures().floorOf(40));
        assertEquals(Duration.ofMinutes(10), d.healthTimeout().orElseThrow());
        assertEquals("run", d.control());
        assertEquals(d, RolloutDocument.parse(Json.write(d.json()), "again"), "what the operator commands write reads back the same");
    }

    @Test
    void reportsEveryErrorWithItsPath() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("""
                { "firmware": "1.5 0",
                  "artifact": { "url": "ftp://x", "sha256": "12", "signature": "not base64!", "size": 3 },
                  "installer": "apt",
                  "waves": [ 0, "150%%", "x", 2 ],
                  "maxFailures": -1,
                  "healthTimeout": "1s",
                  "control": "stop" }""".formatted()));
        Map<String, String> byPath = new java.util.LinkedHashMap<>();
        e.errors().forEach(err -> byPath.put(err.path(), err.message()));
        assertEquals(List.of("$.firmware", "$.artifact.url", "$.artifact.sha256", "$.artifact.signature", "$.artifact.size",
                "$.installer", "$.waves[0]", "$.waves[1]", "$.waves[2]", "$.maxFailures", "$.healthTimeout", "$.control"),
                List.copyOf(byPath.keySet()), e.getMessage());
        assertTrue(byPath.get("$.installer").contains("package, command"), byPath.toString());
        assertTrue(byPath.get("$.healthTimeout").contains("between 10s and 24h"), byPath.toString());
    }

    @Test
    void requiredKeysAndAnEmptyWaveListAreErrors() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("{\"waves\": []}"));
        List<String> paths = e.errors().stream().map(ConfigError::path).toList();
        assertEquals(List.of("$.firmware", "$.artifact.url", "$.artifact.sha256", "$.artifact.signature", "$.installer", "$.waves"), paths,
                e.getMessage());
        assertThrows(ConfigException.class, () -> parse("not json"));
    }
}
