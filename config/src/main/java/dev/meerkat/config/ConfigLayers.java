package dev.meerkat.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Builds the effective config of a device from its fleet layer and its device layer.
 *
 * <p>Each document is checked on its own first, so that an error names the znode that holds the
 * bad value; a document with errors is left out and the others still apply. The device layer then
 * overlays the fleet layer key by key (objects merge, everything else replaces), and a device sensor
 * document {@code {"enabled": false}} switches the fleet sensor of the same id off on that device.
 */
public final class ConfigLayers {
    private ConfigLayers() {}

    public record Result(EffectiveConfig config, List<ConfigError> errors) {}

    public static Result build(ConfigLayer fleet, ConfigLayer device, DriverCatalog drivers) {
        List<ConfigError> errors = new ArrayList<>();

        ObjectNode agent = JsonNodeFactory.instance.objectNode();
        for (ConfigDocument doc : optionals(fleet.agent(), device.agent())) {
            List<ConfigError> own = new ArrayList<>();
            Optional<JsonNode> tree = Json.parse(doc.data(), doc.znode(), own);
            tree.ifPresent(t -> AgentSettings.read(Fields.root(t, doc.znode(), own)));
            if (own.isEmpty()) merge(agent, tree.get());
            errors.addAll(own);
        }
        AgentSettings settings = AgentSettings.read(Fields.root(agent, "(effective agent)", errors));

        SortedMap<String, SensorConfig> sensors = new TreeMap<>();
        ObjectNode canonical = JsonNodeFactory.instance.objectNode();
        canonical.set("agent", agent);
        ObjectNode canonicalSensors = canonical.putObject("sensors");
        for (String id : new TreeSet<>(union(fleet.sensors(), device.sensors()))) {
            ObjectNode merged = JsonNodeFactory.instance.objectNode();
            ConfigDocument last = null;
            boolean bad = false;
            for (ConfigDocument doc : optionals(Optional.ofNullable(fleet.sensors().get(id)),
                    Optional.ofNullable(device.sensors().get(id)))) {
                List<ConfigError> own = new ArrayList<>();
                if (!SensorConfig.ID.matcher(id).matches()) {
                    own.add(new ConfigError(doc.znode(), "$", "the sensor id \"" + id
                            + "\" must be letters, digits, '.', '_' or '-', at most 63"));
                }
                Optional<JsonNode> tree = Json.parse(doc.data(), doc.znode(), own);
                if (tree.isPresent() && !tree.get().isObject()) {
                    own.add(new ConfigError(doc.znode(), "$", "must be an object, got " + Fields.describe(tree.get())));
                }
                if (own.isEmpty()) {
                    ObjectNode attempt = merged.deepCopy();
                    merge(attempt, tree.get());
                    if (!isSwitchedOff(attempt)) {
                        SensorConfig.read(id, Fields.root(attempt, doc.znode(), own), drivers);
                    }
                    if (own.isEmpty()) {
                        merged = attempt;
                        last = doc;
                    }
                }
                if (!own.isEmpty()) {
                    errors.addAll(own);
                    // A broken device override must not silently run the fleet's version in its place.
                    bad = doc == device.sensors().get(id);
                }
            }
            if (last == null || bad || isSwitchedOff(merged)) continue;
            SensorConfig sensor = SensorConfig.read(id, Fields.root(merged, last.znode(), errors), drivers);
            if (sensor != null) {
                sensors.put(id, sensor);
                canonicalSensors.set(id, merged);
            }
        }
        String digest = "sha256:" + sha256(canonical.toString());
        return new Result(new EffectiveConfig(settings, sensors, fleet.version(), device.version(), digest), errors);
    }

    private static boolean isSwitchedOff(ObjectNode doc) {
        JsonNode enabled = doc.get("enabled");
        return enabled != null && enabled.isBoolean() && !enabled.asBoolean();
    }

    /** Overlays {@code over} onto {@code base}, key by key. */
    static void merge(ObjectNode base, JsonNode over) {
        over.properties().forEach(e -> {
            JsonNode old = base.get(e.getKey());
            if (old instanceof ObjectNode o && e.getValue().isObject()) merge(o, e.getValue());
            else base.set(e.getKey(), e.getValue().deepCopy());
        });
    }

    @SafeVarargs
    private static List<ConfigDocument> optionals(Optional<ConfigDocument>... docs) {
        List<ConfigDocument> list = new ArrayList<>();
        for (Optional<ConfigDocument> d : docs) d.ifPresent(list::add);
        return list;
    }

    private static java.util.Set<String> union(Map<String, ?> a, Map<String, ?> b) {
        java.util.Set<String> s = new TreeSet<>(a.keySet());
        s.addAll(b.keySet());
        return s;
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
