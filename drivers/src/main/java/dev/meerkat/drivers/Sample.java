package dev.meerkat.drivers;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The values of one sample, each with its unit (UCUM-style, as in SPEC §8: {@code Cel}, {@code %RH},
 * {@code hPa}). Insertion order is kept, so payloads read the way the driver lists them.
 */
public record Sample(Map<String, Double> values, Map<String, String> units) {
    public Sample {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        units = Collections.unmodifiableMap(new LinkedHashMap<>(units));
        if (!values.keySet().containsAll(units.keySet())) {
            throw new IllegalArgumentException("a unit for a value that is not there: " + units.keySet());
        }
    }
}
