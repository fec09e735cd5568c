package dev.meerkat.config;

import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One layer of config (the fleet's, or one device's): its agent document, if any, and its sensor
 * documents by sensor id.
 */
public record ConfigLayer(Optional<ConfigDocument> agent, SortedMap<String, ConfigDocument> sensors) {
    public ConfigLayer {
        sensors = new TreeMap<>(sensors);
    }

    public static ConfigLayer empty() {
        return new ConfigLayer(Optional.empty(), new TreeMap<>());
    }

    public static ConfigLayer of(Optional<ConfigDocument> agent, Map<String, ConfigDocument> sensors) {
        return new ConfigLayer(agent, new TreeMap<>(sensors));
    }

    /** The highest data version across the layer's znodes (SPEC §5), -1 for an empty layer. */
    public long version() {
        long v = agent.map(ConfigDocument::version).orElse(-1);
        for (ConfigDocument d : sensors.values()) v = Math.max(v, d.version());
        return v;
    }
}
