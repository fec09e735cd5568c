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
