package dev.meerkat.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/** The project's Jackson mappers, set up once: strict about duplicates and trailing tokens. */
public final class Json {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private Json() {}

    public static ObjectMapper mapper() {
        return JSON;
    }

    /** Parses JSON, or records one error (with line and column) and returns empty. */
    public static Optional<JsonNode> parse(byte[] data, String source, List<ConfigError> errors) {
        return parse(JSON, data, source, errors);
    }

    public static Optional<JsonNode> parseYaml(byte[] data, String source, List<ConfigError> errors) {
        return parse(YAML, data, source, errors);
    }

    private static Optional<JsonNode> parse(ObjectMapper mapper, byte[] data, String source, List<ConfigError> errors) {
        if (data == null || data.length == 0) {
            errors.add(new ConfigError(source, "$", "is empty; write a JSON object, {} for all defaults"));
            return Optional.empty();
        }
        try {
            JsonNode node = mapper.readTree(data);
            if (node == null || node.isMissingNode()) {
                errors.add(new ConfigError(source, "$", "is empty; write a JSON object, {} for all defaults"));
                return Optional.empty();
            }
            return Optional.of(node);
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

    /**
     * Reads a document the project wrote, in this version or a later one: keys it does not know
     * (added later) are ignored rather than refused.
     */
    public static <T> T readTolerant(byte[] json, Class<T> type) throws IOException {
        return JSON.readerFor(type).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(json);
    }

    /** Compact JSON for a value the project writes (znodes, MQTT payloads). */
    public static byte[] write(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON for " + value.getClass().getName(), e);
        }
    }
}
