package dev.meerkat.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * Builds the effective config of a device from its fleet layer and its device layer.
 *
 * <p>Each document is checked as it is applied, so that an error names the znode that holds the
 * bad value. A rejected document never reaches the running agent: where an earlier version of the
 * same znode was good ({@code lastGood}), that version stays in force; otherwise the document is
 * left out. The other documents still apply. The device layer overlays the fleet layer key by key
 * (objects merge, everything else replaces), and a device sensor document {@code {"enabled": false}}
 * switches the fleet sensor of the same id off on that device. A rejected device override with no
 * good earlier version takes the sensor off the device rather than run the fleet's version in its
 * place.
 */
public final class ConfigLayers {
    private ConfigLayers() {}

    /**
     * The effective config, every error found, and the documents it was built from (each either the
     * current document of its znode, or the last good one where the current one was rejected).
     */
    public record Result(EffectiveConfig config, List<ConfigError> errors, ConfigLayer usedFleet, ConfigLayer usedDevice) {
        /** The documents in force by znode, to be given back as {@code lastGood} next time. */
        public Map<String, ConfigDocument> used() {
            Map<String, ConfigDocument> m = new TreeMap<>();
            for (ConfigLayer l : List.of(usedFleet, usedDevice)) {
                l.agent().ifPresent(d -> m.put(d.znode(), d));
                l.sensors().values().forEach(d -> m.put(d.znode(), d));
            }
            return m;
        }
    }

    public static Result build(ConfigLayer fleet, ConfigLayer device, DriverCatalog drivers) {
        return build(fleet, device, drivers, Map.of());
    }

    public static Result build(ConfigLayer fleet, ConfigLayer device, DriverCatalog drivers,
                               Map<String, ConfigDocument> lastGood) {
        List<ConfigError> errors = new ArrayList<>();
        Layers used = new Layers();

        // The agent documents: each must be a valid (partial) agent document on its own.
        ObjectNode agent = JsonNodeFactory.instance.objectNode();
        for (Slot slot : slots(fleet.agent(), device.agent(), false, used)) {
            Optional<ObjectNode> merged = firstGood(slot.doc, lastGood, errors, (doc, own) -> {
                Optional<JsonNode> tree = parseObject(doc, own);
                if (tree.isEmpty()) return Optional.empty();
                AgentSettings.read(Fields.root(tree.get(), doc.znode(), own));
                ObjectNode attempt = agent.deepCopy();
                merge(attempt, tree.get());
                return own.isEmpty() ? Optional.of(attempt) : Optional.empty();
            }, slot.use);
            merged.ifPresent(m -> agent.setAll(m));
        }
        AgentSettings settings = AgentSettings.read(Fields.root(agent, "(effective agent)", errors));

        SortedMap<String, SensorConfig> sensors = new TreeMap<>();
        ObjectNode canonical = JsonNodeFactory.instance.objectNode();
        canonical.set("agent", agent);
        ObjectNode canonicalSensors = canonical.putObject("sensors");
        for (String id : new TreeSet<>(union(fleet.sensors(), device.sensors()))) {
            ObjectNode[] merged = {JsonNodeFactory.instance.objectNode()};
            String lastZnode = null;
            boolean off = false;
            for (Slot slot : slots(Optional.ofNullable(fleet.sensors().get(id)), Optional.ofNullable(device.sensors().get(id)), true, used)) {
                ObjectNode base = merged[0];
                Optional<ObjectNode> next = firstGood(slot.doc, lastGood, errors, (doc, own) -> {
                    if (!SensorConfig.ID.matcher(id).matches()) {
                        own.add(new ConfigError(doc.znode(), "$", "the sensor id \"" + id
                                + "\" must be letters, digits, '.', '_' or '-', at most 63"));
                        return Optional.empty();
                    }
                    Optional<JsonNode> tree = parseObject(doc, own);
                    if (tree.isEmpty()) return Optional.empty();
                    ObjectNode attempt = base.deepCopy();
                    merge(attempt, tree.get());
                    if (!isSwitchedOff(attempt)) SensorConfig.read(id, Fields.root(attempt, doc.znode(), own), drivers);
                    return own.isEmpty() ? Optional.of(attempt) : Optional.empty();
                }, slot.use);
                if (next.isPresent()) {
                    merged[0] = next.get();
                    lastZnode = slot.doc.znode();
                } else if (slot.device) {
                    off = true;
                }
            }
            if (lastZnode == null || off || isSwitchedOff(merged[0])) continue;
            SensorConfig sensor = SensorConfig.read(id, Fields.root(merged[0], lastZnode, errors), drivers);
            if (sensor != null) {
                sensors.put(id, sensor);
                canonicalSensors.set(id, merged[0]);
            }
        }
        String digest = "sha256:" + sha256(Json.text(canonical));
        ConfigLayer usedFleet = used.fleet(), usedDevice = used.device();
        return new Result(new EffectiveConfig(settings, sensors, usedFleet.version(), usedDevice.version(), digest),
                errors, usedFleet, usedDevice);
    }

    /**
     * Tries the current document; when it is rejected, reports why and tries the last good version
     * of the same znode. Records whichever is used.
     */
    private static <T> Optional<T> firstGood(ConfigDocument current, Map<String, ConfigDocument> lastGood,
                                             List<ConfigError> errors,
                                             BiFunction<ConfigDocument, List<ConfigError>, Optional<T>> check,
                                             Consumer<ConfigDocument> use) {
        List<ConfigError> own = new ArrayList<>();
        Optional<T> result = check.apply(current, own);
        if (result.isPresent()) {
            use.accept(current);
            return result;
        }
        errors.addAll(own);
        ConfigDocument previous = lastGood.get(current.znode());
        if (previous == null || Arrays.equals(previous.data(), current.data())) return Optional.empty();
        Optional<T> fallback = check.apply(previous, new ArrayList<>());
        fallback.ifPresent(x -> use.accept(previous));
        return fallback;
    }

    private static Optional<JsonNode> parseObject(ConfigDocument doc, List<ConfigError> own) {
        Optional<JsonNode> tree = Json.parse(doc.data(), doc.znode(), own);
        if (tree.isPresent() && !tree.get().isObject()) {
            own.add(new ConfigError(doc.znode(), "$", "must be an object, got " + Fields.describe(tree.get())));
            return Optional.empty();
        }
        return tree;
    }

    /** One document position (fleet or device) and where to record the document used for it. */
    private record Slot(ConfigDocument doc, boolean device, Consumer<ConfigDocument> use) {}

    private static List<Slot> slots(Optional<ConfigDocument> f, Optional<ConfigDocument> d, boolean sensor, Layers used) {
        List<Slot> list = new ArrayList<>();
        f.ifPresent(doc -> list.add(new Slot(doc, false, x -> used.record(false, sensor, x))));
        d.ifPresent(doc -> list.add(new Slot(doc, true, x -> used.record(true, sensor, x))));
        return list;
    }

    /** The documents in force, per layer. */
    private static final class Layers {
        private ConfigDocument fleetAgent, deviceAgent;
        private final TreeMap<String, ConfigDocument> fleetSensors = new TreeMap<>(), deviceSensors = new TreeMap<>();

        void record(boolean device, boolean sensor, ConfigDocument d) {
            if (!sensor) {
                if (device) deviceAgent = d;
                else fleetAgent = d;
            } else {
                String id = d.znode().substring(d.znode().lastIndexOf('/') + 1);
                (device ? deviceSensors : fleetSensors).put(id, d);
            }
        }

        ConfigLayer fleet() {
            return new ConfigLayer(Optional.ofNullable(fleetAgent), fleetSensors);
        }

        ConfigLayer device() {
            return new ConfigLayer(Optional.ofNullable(deviceAgent), deviceSensors);
        }
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
