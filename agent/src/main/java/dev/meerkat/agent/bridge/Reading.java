package dev.meerkat.agent.bridge;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/** One reading as SPEC §8 publishes it. {@code ts} is when the sample was taken. */
public record Reading(String device, String sensor, long seq, Instant ts, Map<String, Double> values,
                      Map<String, String> units, OptionalLong lockToken) {

    /** Always with milliseconds, {@code 2026-11-21T15:00:05.000Z}, so every payload has the same shape. */
    static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private static final com.fasterxml.jackson.core.JsonFactory JSON = new com.fasterxml.jackson.core.JsonFactory();

    /** The JSON payload as bytes, the same as {@link #toJson()} written out, without the map in between. */
    public byte[] payload() {
        byte[] plain = plainPayload();
        return plain != null ? plain : jacksonPayload();
    }

    /**
     * The payload written by hand, for the common reading (every name and unit printable ASCII
     * without quotes or backslashes, every value finite, a year of four digits): null for any
     * other, which Jackson writes. The same bytes as Jackson's; it is what a sensor at full speed
     * spends most of its time on.
     */
    private byte[] plainPayload() {
        long millis;
        try {
            millis = ts.toEpochMilli();
        } catch (ArithmeticException e) {
            return null;
        }
        if (millis < MIN_PLAIN_MILLIS || millis >= MAX_PLAIN_MILLIS) return null;
        StringBuilder b = new StringBuilder(256);
        b.append("{\"device\":");
        if (!plain(b, device)) return null;
        b.append(",\"sensor\":");
        if (!plain(b, sensor)) return null;
        b.append(",\"seq\":").append(seq).append(",\"ts\":\"");
        timestamp(b, millis);
        b.append("\",\"values\":{");
        boolean first = true;
        for (var e : values.entrySet()) {
            Double v = e.getValue();
            if (v == null || !Double.isFinite(v)) return null;
            if (!first) b.append(',');
            first = false;
            if (!plain(b, e.getKey())) return null;
            b.append(':').append(v.doubleValue());
        }
        b.append("},\"units\":{");
        first = true;
        for (var e : units.entrySet()) {
            if (!first) b.append(',');
            first = false;
            if (!plain(b, e.getKey())) return null;
            b.append(':');
            if (!plain(b, e.getValue())) return null;
        }
        b.append('}');
        if (lockToken.isPresent()) b.append(",\"lockToken\":").append(lockToken.getAsLong());
        b.append('}');
        return b.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1); // ASCII only
    }

    // Years 1000 to 9999: four digits, as the pattern writes them.
    private static final long MIN_PLAIN_MILLIS = Instant.parse("1000-01-01T00:00:00Z").toEpochMilli();
    private static final long MAX_PLAIN_MILLIS = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();

    /** Appends {@code "s"}; false when {@code s} needs escaping or is not ASCII. */
    private static boolean plain(StringBuilder b, String s) {
        if (s == null) return false;
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
        }
        b.append(s).append('"');
        return true;
    }

    /** {@code uuuu-MM-dd'T'HH:mm:ss.SSS'Z'} for a four-digit year. */
    private static void timestamp(StringBuilder b, long millis) {
        long days = Math.floorDiv(millis, 86_400_000L);
        int ms = (int) Math.floorMod(millis, 86_400_000L);
        java.time.LocalDate d = java.time.LocalDate.ofEpochDay(days);
        b.append(d.getYear()).append('-');
        two(b, d.getMonthValue());
        b.append('-');
        two(b, d.getDayOfMonth());
        b.append('T');
        two(b, ms / 3_600_000);
        b.append(':');
        two(b, ms / 60_000 % 60);
        b.append(':');
        two(b, ms / 1000 % 60);
        b.append('.');
        int frac = ms % 1000;
        if (frac < 100) b.append('0');
        if (frac < 10) b.append('0');
        b.append(frac).append('Z');
    }

    private static void two(StringBuilder b, int n) {
        if (n < 10) b.append('0');
        b.append(n);
    }

    /** The payload as Jackson writes it: for every reading; {@link #payload} is the same bytes. */
    byte[] jacksonPayload() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(256);
        try (com.fasterxml.jackson.core.JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("device", device);
            g.writeStringField("sensor", sensor);
            g.writeNumberField("seq", seq);
            g.writeStringField("ts", TS.format(ts));
            g.writeObjectFieldStart("values");
            for (var e : values.entrySet()) g.writeNumberField(e.getKey(), e.getValue());
            g.writeEndObject();
            g.writeObjectFieldStart("units");
            for (var e : units.entrySet()) g.writeStringField(e.getKey(), e.getValue());
            g.writeEndObject();
            if (lockToken.isPresent()) g.writeNumberField("lockToken", lockToken.getAsLong());
            g.writeEndObject();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // not with a byte array
        }
        return out.toByteArray();
    }

    /** A reading back from its {@link #payload()} (as the journal keeps it). */
    public static Reading parse(byte[] payload) throws java.io.IOException {
        com.fasterxml.jackson.databind.JsonNode j = dev.meerkat.config.Json.tree(payload);
        Map<String, Double> values = new LinkedHashMap<>();
        j.path("values").properties().forEach(e -> values.put(e.getKey(), e.getValue().asDouble()));
        Map<String, String> units = new LinkedHashMap<>();
        j.path("units").properties().forEach(e -> units.put(e.getKey(), e.getValue().asText()));
        return new Reading(j.path("device").asText(), j.path("sensor").asText(), j.path("seq").asLong(), Instant.parse(j.path("ts").asText()),
                values, units, j.has("lockToken") ? OptionalLong.of(j.path("lockToken").asLong()) : OptionalLong.empty());
    }

    /** The JSON payload, keys in SPEC order. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", device);
        m.put("sensor", sensor);
        m.put("seq", seq);
        m.put("ts", TS.format(ts));
        m.put("values", values);
        m.put("units", units);
        lockToken.ifPresent(t -> m.put("lockToken", t));
        return m;
    }
}
