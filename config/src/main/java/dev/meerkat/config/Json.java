package dev.meerkat.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

/**
 * The project's JSON: strict about duplicate keys and trailing tokens.
 *
 * <p>Documents are read into Jackson's {@link JsonNode} trees and written back with
 * {@code jackson-core}'s streaming parser and generator only ({@link JsonTrees}); records go through
 * {@link JsonRecords}. None of it touches Jackson's {@code ObjectMapper}, whose first use loads some
 * 500 classes (and the JDK's locale data for its date format). That is 6 MiB of a gateway's memory
 * (docs/benchmarks.md), so {@code meerkat run} must not load it. The commands that print for people
 * use {@link #mapper()}; a value the writer does not know (a bean, a date, an array) is handed to
 * the mapper too, so the output is always what Jackson would write.
 */
public final class Json {
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private Json() {}

    /** Made on first use only: YAML loads SnakeYAML, which only the bootstrap file needs. */
    private static final class Yaml {
        static final YAMLFactory FACTORY = YAMLFactory.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
    }

    /** Made on first use only (see the class comment). */
    private static final class Mapper {
        static final ObjectMapper JSON = JsonMapper.builder()
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
    }

    /** Jackson's full mapper, for the commands; the agent's own paths use the methods below. */
    public static ObjectMapper mapper() {
        return Mapper.JSON;
    }

    /** Parses JSON, or records one error (with line and column) and returns empty. */
    public static Optional<JsonNode> parse(byte[] data, String source, List<ConfigError> errors) {
        return parse(JSON, true, data, source, errors);
    }

    /** Parses YAML (the first document of the file), or records one error and returns empty. */
    public static Optional<JsonNode> parseYaml(byte[] data, String source, List<ConfigError> errors) {
        return parse(Yaml.FACTORY, false, data, source, errors);
    }

    private static Optional<JsonNode> parse(JsonFactory factory, boolean whole, byte[] data, String source,
                                            List<ConfigError> errors) {
        try {
            Optional<JsonNode> node = data == null ? Optional.empty() : read(factory, whole, data);
            if (node.isEmpty()) errors.add(new ConfigError(source, "$", "is empty; write a JSON object, {} for all defaults"));
            return node;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            errors.add(new ConfigError(source, "$", "does not parse" + where + ": " + e.getOriginalMessage()));
            return Optional.empty();
        } catch (IOException e) {
            errors.add(new ConfigError(source, "$", "cannot be read: " + e.getMessage()));
            return Optional.empty();
        }
    }

    /** One JSON value; empty for no value at all. Content after the value is an error. */
    private static Optional<JsonNode> read(JsonFactory factory, boolean whole, byte[] data) throws IOException {
        try (JsonParser p = factory.createParser(data)) {
            if (p.nextToken() == null) return Optional.empty();
            JsonNode node = JsonTrees.read(p);
            if (whole) {
                JsonToken after = p.nextToken();
                if (after != null) {
                    throw new com.fasterxml.jackson.core.JsonParseException(p,
                            "Trailing token (of type " + after + ") found after the document's value: not allowed");
                }
            }
            return Optional.of(node);
        }
    }

    /** A JSON document the project wrote (a file, a znode), as a tree. */
    public static JsonNode tree(byte[] data) throws IOException {
        return read(JSON, true, data).orElseThrow(() -> new IOException("no JSON value (empty document)"));
    }

    /**
     * Reads a document the project wrote, in this version or a later one: keys it does not know
     * (added later) are ignored rather than refused.
     */
    public static <T> T readTolerant(byte[] json, Class<T> type) throws IOException {
        if (JsonRecords.handles(type)) {
            try {
                return JsonRecords.read(tree(json), type);
            } catch (JsonTrees.Unsupported e) {
                // a component type JsonRecords does not read: the mapper below does
            }
        }
        return Mapper.JSON.readerFor(type).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(json);
    }

    /** Compact JSON for a value the project writes (znodes, MQTT payloads). */
    public static byte[] write(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        if (!generate(value, false, () -> JSON.createGenerator(out))) return viaMapper(value, false);
        return out.toByteArray();
    }

    /** JSON for people to read: Jackson's default pretty printer (two spaces, {@code " : "}). */
    public static byte[] writePretty(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        if (!generate(value, true, () -> JSON.createGenerator(out))) return viaMapper(value, true);
        return out.toByteArray();
    }

    /**
     * Compact JSON as text, as Jackson's {@code JsonNode.toString()} gives it (which loads the
     * mapper). Text, not bytes: a character outside the BMP stays one character here, where
     * {@link #write} escapes its two halves.
     */
    public static String text(Object value) {
        StringWriter out = new StringWriter(256);
        if (generate(value, false, () -> JSON.createGenerator(out))) return out.toString();
        try {
            return Mapper.JSON.writeValueAsString(value);
        } catch (JsonProcessingException failed) {
            throw new IllegalStateException("cannot write JSON for " + value.getClass().getName(), failed);
        }
    }

    private interface Generators {
        JsonGenerator open() throws IOException;
    }

    /** False for a value {@link JsonTrees} does not know. */
    private static boolean generate(Object value, boolean pretty, Generators generators) {
        try (JsonGenerator g = generators.open()) {
            if (pretty) g.useDefaultPrettyPrinter();
            JsonTrees.write(g, value);
            return true;
        } catch (JsonTrees.Unsupported e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e); // into memory: does not happen
        }
    }

    private static byte[] viaMapper(Object value, boolean pretty) {
        try {
            return pretty ? Mapper.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(value)
                    : Mapper.JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException failed) {
            throw new IllegalStateException("cannot write JSON for " + value.getClass().getName(), failed);
        }
    }
}
