package dev.meerkat.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the fields of one JSON object while keeping the JSON path of each, so that every problem
 * is reported with where it is ({@code $.zookeeper.sessionTimeout}). Problems are collected, not
 * thrown: a document is checked whole and every error is reported at once. A wrong value yields the
 * default so that reading can go on; the caller rejects the document when {@link #errors} is not
 * empty. Keys that nobody read are reported by {@link #done()}.
 */
public final class Fields {
    private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]*");

    private final ObjectNode node;
    private final String source;
    private final String path;
    private final List<ConfigError> errors;
    private final Set<String> read = new HashSet<>();

    private Fields(ObjectNode node, String source, String path, List<ConfigError> errors) {
        this.node = node;
        this.source = source;
        this.path = path;
        this.errors = errors;
    }

    /** The top of a document. A document that is not a JSON object is one error. */
    public static Fields root(JsonNode document, String source, List<ConfigError> errors) {
        return of(document, source, "$", errors);
    }

    static Fields of(JsonNode value, String source, String path, List<ConfigError> errors) {
        if (value == null || value.isNull() || value.isMissingNode()) {
            return new Fields(JsonNodeFactory.instance.objectNode(), source, path, errors);
        }
        if (!value.isObject()) {
            errors.add(new ConfigError(source, path, "must be an object, got " + describe(value)));
            return new Fields(JsonNodeFactory.instance.objectNode(), source, path, errors);
        }
        return new Fields((ObjectNode) value, source, path, errors);
    }

    public String path() {
        return path;
    }

    public String source() {
        return source;
    }

    public String pathOf(String key) {
        return PLAIN_KEY.matcher(key).matches() ? path + "." + key : path + "[\"" + key.replace("\"", "\\\"") + "\"]";
    }

    List<ConfigError> errorList() {
        return errors;
    }

    public boolean has(String key) {
        return node.has(key) && !node.get(key).isNull();
    }

    public void error(String key, String message) {
        errors.add(new ConfigError(source, key == null ? path : pathOf(key), message));
    }

    /** A string, or {@code def} (which may be null) when absent. */
    public String string(String key, String def) {
        JsonNode v = take(key);
        if (v == null) return def;
        if (!v.isTextual()) {
            error(key, "must be a string, got " + describe(v));
            return def;
        }
        return v.asText();
    }

    public String string(String key, String def, Pattern pattern, String rule) {
        String s = string(key, null);
        if (s == null) return def;
        if (!pattern.matcher(s).matches()) {
            error(key, "must be " + rule + ", got \"" + s + "\"");
            return def;
        }
        return s;
    }

    public String required(String key) {
        if (!has(key)) {
            error(key, "is required");
            take(key);
            return null;
        }
        return string(key, null);
    }

    public String oneOf(String key, String def, List<String> allowed) {
        String s = string(key, null);
        if (s == null) return def;
        if (!allowed.contains(s)) {
            error(key, "must be one of " + String.join(", ", allowed) + ", got \"" + s + "\"");
            return def;
        }
        return s;
    }

    public int integer(String key, int def, int min, int max) {
        JsonNode v = take(key);
        if (v == null) return def;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            error(key, "must be a whole number between " + min + " and " + max + ", got " + describe(v));
            return def;
        }
        int i = v.asInt();
        if (i < min || i > max) {
            error(key, "must be between " + min + " and " + max + ", got " + i);
            return def;
        }
        return i;
    }

    public double number(String key, double def) {
        JsonNode v = take(key);
        if (v == null) return def;
        if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
            error(key, "must be a number, got " + describe(v));
            return def;
        }
        return v.asDouble();
    }

    public boolean bool(String key, boolean def) {
        JsonNode v = take(key);
        if (v == null) return def;
        if (!v.isBoolean()) {
            error(key, "must be true or false, got " + describe(v));
            return def;
        }
        return v.asBoolean();
    }

    public Duration duration(String key, Duration def, Duration min, Duration max) {
        String s = string(key, null);
        if (s == null) return def;
        Duration d;
        try {
            d = Durations.parse(s);
        } catch (IllegalArgumentException e) {
            error(key, e.getMessage());
            return def;
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            error(key, "must be between " + Durations.format(min) + " and " + Durations.format(max) + ", got " + s);
            return def;
        }
        return d;
    }

    public long size(String key, long def, long min, long max) {
        String s = string(key, null);
        if (s == null) return def;
        long n;
        try {
            n = Sizes.parse(s);
        } catch (IllegalArgumentException e) {
            error(key, e.getMessage());
            return def;
        }
        if (n < min || n > max) {
            error(key, "must be between " + Sizes.format(min) + " and " + Sizes.format(max) + ", got " + s);
            return def;
        }
        return n;
    }

    /** A nested object; absent reads as empty, so its defaults apply. */
    public Fields object(String key) {
        return of(take(key), source, pathOf(key), errors);
    }

    /** A value read as it is, for a part whose owner (a driver, say) checks it; null when absent. */
    public JsonNode raw(String key) {
        return take(key);
    }

    /** The keys present, in document order. */
    public List<String> keys() {
        List<String> keys = new ArrayList<>();
        node.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    /** Reports every key that no reader asked for. */
    public void done() {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!read.contains(key)) error(key, "is not a known key");
        }
    }

    private JsonNode take(String key) {
        read.add(key);
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    public static String describe(JsonNode v) {
        String text = Json.text(v);
        if (text.length() > 40) text = text.substring(0, 37) + "...";
        String kind = v.isTextual() ? "a string" : v.isNumber() ? "a number" : v.isBoolean() ? "a boolean"
                : v.isArray() ? "an array" : v.isObject() ? "an object" : "null";
        return kind + " " + text;
    }
}
