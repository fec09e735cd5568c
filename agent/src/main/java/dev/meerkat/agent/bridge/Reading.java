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
