package dev.meerkat.config;

import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a device runs: the fleet layer overlaid by the device layer (SPEC §4), with the versions that
 * produced it and a digest of its content.
 */
public record EffectiveConfig(AgentSettings agent, SortedMap<String, SensorConfig> sensors,
                              long fleetVersion, long deviceVersion, String digest) {
    public EffectiveConfig {
        sensors = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(sensors));
    }
}
