package dev.meerkat.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link Json} reads and writes without Jackson's {@code ObjectMapper}; here, against a mapper set
 * up as the project's was, it must give the same trees, the same bytes, the same records and the
 * same refusals.
 */
class JsonTest {
    /** What {@code Json.mapper()} was before the agent stopped using it: the reference. */
    private static final ObjectMapper JACKSON = JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final ObjectMapper JACKSON_YAML = YAMLMapper.builder()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    @Test
    void tenThousandMutatedDocumentsParseAsJacksonParsesThem() throws Exception {
        SplittableRandom random = new SplittableRandom(20261122);
        List<String> seeds = new ArrayList<>(MutatedDocumentsTest.SENSOR_SEEDS);
        seeds.addAll(MutatedDocumentsTest.AGENT_SEEDS);
        seeds.addAll(List.of("[1, 2.5, -0.0, 1e400, 12345678901234567890, 9223372036854775807, \"\\u00e9\\ud83d\\ude00\"]",
                "{\"a\":{\"b\":{\"c\":[[],[{}],null,true,false]}}}", "  \"just a string\" ", "42", "null"));
        int accepted = 0, rejected = 0;
        for (int i = 0; i < 10_000; i++) {
            String text = MutatedDocumentsTest.mutate(seeds.get(random.nextInt(seeds.size())), random, random.nextInt(4));
            Optional<JsonNode> theirs = compare(JACKSON, text);
            if (theirs == null) {
                rejected++;
            } else if (theirs.isPresent()) {
                accepted++;
                JsonNode ours = Json.tree(text.getBytes(StandardCharsets.UTF_8));
                assertEquals(theirs.get().toString(), Json.text(ours), text);
                assertArrayEquals(JACKSON.writeValueAsBytes(theirs.get()), Json.write(ours), text);
                assertArrayEquals(JACKSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(theirs.get()), Json.writePretty(ours), text);
            }
        }
        assertTrue(accepted > 1_000 && rejected > 1_000, accepted + " accepted, " + rejected + " rejected");
    }

    /**
     * Parses {@code text} with {@link Json} and with {@code jackson}, and checks they agree: the same
     * tree, both empty, or both refusing with the same words (but for content after the value,
     * which {@code Json} words itself). Jackson's tree; empty for no value; null for a refusal.
     */
    private static Optional<JsonNode> compare(ObjectMapper jackson, String text) throws IOException {
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        List<ConfigError> errors = new ArrayList<>();
        Optional<JsonNode> ours = jackson == JACKSON ? Json.parse(data, "/z", errors) : Json.parseYaml(data, "/z", errors);
        JsonNode theirs;
        try {
            theirs = jackson.readTree(data);
        } catch (JsonProcessingException e) {
            assertTrue(ours.isEmpty(), "Jackson refuses, Json accepts: " + text);
            assertEquals(1, errors.size(), text);
            if (e instanceof MismatchedInputException) {
                assertTrue(errors.get(0).message().startsWith("does not parse at line "), errors.get(0).message());
            } else {
                assertEquals("does not parse at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr()
                        + ": " + e.getOriginalMessage(), errors.get(0).message(), text);
            }
            return null;
        }
        if (theirs == null || theirs.isMissingNode()) {
            assertTrue(ours.isEmpty(), text);
            assertEquals(1, errors.size(), text);
            return Optional.empty();
        }
        assertEquals(List.of(), errors, text);
        assertEquals(theirs, ours.orElseThrow(), text);
        return Optional.of(theirs);
    }

    @Test
    void numbersKeepTheirNodeTypes() throws Exception {
        byte[] data = "{\"i\":1,\"l\":9999999999,\"b\":123456789012345678901234567890,\"d\":0.1,\"e\":1e-7,\"n\":-0.0}"
                .getBytes(StandardCharsets.UTF_8);
        JsonNode ours = Json.tree(data), theirs = JACKSON.readTree(data);
        for (String k : List.of("i", "l", "b", "d", "e", "n")) {
            assertEquals(theirs.get(k).getClass(), ours.get(k).getClass(), k);
            assertEquals(theirs.get(k), ours.get(k), k);
        }
        assertEquals(theirs.toString(), Json.text(ours));
    }

    @Test
    void yamlParsesAsJacksonParsesIt() throws Exception {
        for (String yaml : List.of(
                "device: { id: gw-1, fleet: f }\nzookeeper: { connect: \"a:2181,b:2181\", sessionTimeout: 15s }\n",
                "mqtt:\n  uri: tcp://localhost:1883\n  qos: 1\n  retain: true\nstorage:\n  dir: /var/lib/meerkat\nlist: [1, 2.5, null, ~, yes, 'no']\n",
                "a: 1\n---\nb: 2\n",
                "# only a comment\n",
                "a: 1\na: 2\n",
                "a: [1, 2\n")) {
            compare(JACKSON_YAML, yaml);
        }
    }

    @Test
    void trailingContentIsRefusedAsJacksonRefusesIt() {
        for (String text : List.of("{} {}", "{\"a\":1}]", "1 2", "{} x")) {
            assertThrows(JsonProcessingException.class, () -> JACKSON.readTree(text), text);
            List<ConfigError> errors = new ArrayList<>();
            assertTrue(Json.parse(text.getBytes(StandardCharsets.UTF_8), "/z", errors).isEmpty(), text);
            assertEquals(1, errors.size(), text);
            assertTrue(errors.get(0).message().startsWith("does not parse at line 1, column "), errors.get(0).message());
        }
        assertThrows(IOException.class, () -> Json.tree("".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IOException.class, () -> Json.tree("{".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void deepNestingIsRefusedByTheParserNotByTheStack() {
        String deep = "[".repeat(5_000) + "]".repeat(5_000);
        List<ConfigError> errors = new ArrayList<>();
        assertTrue(Json.parse(deep.getBytes(StandardCharsets.UTF_8), "/z", errors).isEmpty());
        assertTrue(errors.get(0).message().contains("nesting depth"), errors.get(0).message());
    }

    enum Colour { RED, GREEN }

    record Inner(String name, Long bytes, Map<String, Integer> counts) {}

    record Outer(String id, int n, long big, double share, boolean on, Boolean maybe, Colour colour, List<Inner> inners,
                 Map<String, Inner> byName, List<String> tags, JsonNode extra) {
        public boolean isDone() {
            return n > 3;
        }

        public String getLabel() {
            return id + "/" + n;
        }

        public boolean healthy() { // not a getter: Jackson does not write it
            return on;
        }
    }

    private static Outer sample(SplittableRandom r) throws IOException {
        Map<String, Inner> byName = new LinkedHashMap<>();
        for (int i = 0; i < r.nextInt(3); i++) byName.put("k" + i, new Inner(r.nextBoolean() ? null : "x\"y\u00e9" + i,
                r.nextBoolean() ? null : r.nextLong(), Map.of("a", r.nextInt())));
        return new Outer(r.nextBoolean() ? null : "id-" + r.nextInt(100), r.nextInt(), r.nextLong(), r.nextDouble() * 1e6,
                r.nextBoolean(), r.nextBoolean() ? null : r.nextBoolean(), r.nextBoolean() ? Colour.RED : null,
                r.nextBoolean() ? null : List.of(new Inner("i", 5L, Map.of())), byName, List.of("t" + r.nextInt(9)),
                r.nextBoolean() ? null : JACKSON.readTree("{\"q\":[1,2.5,\"s\"]}"));
    }

    @Test
    void recordsAreWrittenAndReadAsJacksonDoes() throws Exception {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 200; i++) {
            Outer o = sample(r);
            byte[] theirs = JACKSON.writeValueAsBytes(o);
            assertEquals(new String(theirs, StandardCharsets.UTF_8), new String(Json.write(o), StandardCharsets.UTF_8));
            assertArrayEquals(JACKSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o), Json.writePretty(o));
            Outer jackson = JACKSON.readerFor(Outer.class).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(theirs);
            assertEquals(jackson, Json.readTolerant(theirs, Outer.class));
        }
    }

    @Test
    void readingIsTolerantAndConvertsScalarsAsJacksonDoes() throws Exception {
        for (String text : List.of(
                "{\"id\":7,\"n\":\"12\",\"big\":2.9,\"share\":\"0.5\",\"on\":\"true\",\"unknown\":{\"x\":[1]},\"tags\":[]}",
                "{}",
                "{\"id\":null,\"n\":null,\"maybe\":null,\"inners\":null,\"extra\":null,\"byName\":{}}",
                "{\"colour\":\"GREEN\",\"inners\":[{\"name\":true,\"bytes\":\"5\",\"later\":1}],\"extra\":[1,{}]}")) {
            byte[] data = text.getBytes(StandardCharsets.UTF_8);
            Outer jackson = JACKSON.readerFor(Outer.class).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(data);
            assertEquals(jackson, Json.readTolerant(data, Outer.class), text);
        }
        for (String bad : List.of("{\"n\":[1]}", "{\"n\":\"x\"}", "{\"colour\":\"BLUE\"}", "{\"inners\":{}}", "[]",
                "{\"n\":99999999999}", "{} {}")) {
            byte[] data = bad.getBytes(StandardCharsets.UTF_8);
            assertThrows(IOException.class, () -> JACKSON.readerFor(Outer.class)
                    .without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(data), bad);
            assertThrows(IOException.class, () -> Json.readTolerant(data, Outer.class), bad);
        }
    }

    @Test
    void valuesTheProjectWritesAreWrittenAsJacksonWritesThem() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "tab\t\"quote\" \u2028 \u0001 \ud83d\ude00");
        m.put("null", null);
        m.put("int", 3);
        m.put("long", Long.MIN_VALUE);
        m.put("double", 0.1 + 0.2);
        m.put("nan", Double.NaN);
        m.put("float", 1.5f);
        m.put("decimal", new BigDecimal("1.50"));
        m.put("bigint", new BigInteger("123456789012345678901234567890"));
        m.put("short", (short) 7);
        m.put("bool", false);
        m.put("list", Arrays.asList(1, null, List.of(), Map.of()));
        m.put("enum", TimeUnit.SECONDS);
        m.put("nested", Map.of("k", List.of("v")));
        assertEquals(JACKSON.writeValueAsString(m), Json.text(m));
        assertArrayEquals(JACKSON.writeValueAsBytes(m), Json.write(m));
        assertArrayEquals(JACKSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m), Json.writePretty(m));
    }

    /** What the writer does not know goes to Jackson's mapper: the same bytes either way. */
    @Test
    void valuesTheWriterDoesNotKnowAreWrittenByJackson() throws Exception {
        for (Object o : List.of(new Bean(), Map.of(1, "a"), new java.util.Date(0), Map.of("k", new int[] {1, 2}),
                List.of(new StringBuilder("sb")))) {
            assertEquals(JACKSON.writeValueAsString(o), Json.text(o), o.toString());
            assertArrayEquals(JACKSON.writeValueAsBytes(o), Json.write(o), o.toString());
        }
    }

    public static final class Bean {
        public int getX() {
            return 1;
        }
    }

    /** Jackson writes Amount's {@code isPercent()} in place of its {@code percent}; Json writes the component. */
    @Test
    void aGetterWithAComponentsNameDoesNotHideTheComponent() {
        assertEquals("{\"count\":-1,\"percent\":12.5}", Json.text(new RolloutDocument.Amount(-1, 12.5)));
    }
}
