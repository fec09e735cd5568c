package dev.meerkat.agent.homeassistant;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Home Assistant's device discovery document for one gateway (SPEC §12, the README's "Home Assistant"):
 * one retained message at {@code PREFIX/device/meerkat_F_D/config} with the gateway as the device,
 * Meerkat as the origin, its status topic as the availability, and one component per quantity of
 * each sensor, which reads the value from Meerkat's JSON reading, single or batched (the newest of
 * a batch). A component removed from the config stays in the document as its platform alone,
 * which is how Home Assistant is told to remove it. Pure: the same input gives the same bytes.
 */
public final class Discovery {
    private static final Pattern UNSAFE = Pattern.compile("[^A-Za-z0-9_-]");

    private Discovery() {}

    /** A sensor as discovery needs it: its driver and its quantities, each with its unit. */
    public record Sensor(String driver, Map<String, String> quantities) {}

    /** How one Meerkat unit shows in Home Assistant: its device class, unit and state class (null: none). */
    record Kind(String platform, String deviceClass, String unit, String stateClass) {}

    /** Home Assistant's name of a unit, and the device class it measures, for the units Meerkat's drivers report. */
    private static final Map<String, Kind> UNITS = Map.of(
            "Cel", new Kind("sensor", "temperature", "°C", "measurement"),
            "%RH", new Kind("sensor", "humidity", "%", "measurement"),
            "hPa", new Kind("sensor", "pressure", "hPa", "measurement"),
            "lx", new Kind("sensor", "illuminance", "lx", "measurement"),
            "V", new Kind("sensor", "voltage", "V", "measurement"));

    /** {@code meerkat_F_D}, with characters outside {@code [A-Za-z0-9_-]} as {@code _} (SPEC §12). */
    public static String deviceId(String fleet, String device) {
        return "meerkat_" + safe(fleet) + "_" + safe(device);
    }

    public static String topic(String prefix, String fleet, String device) {
        return prefix + "/device/" + deviceId(fleet, device) + "/config";
    }

    /** The component id of a sensor's quantity: unique within the device, stable across restarts. */
    public static String componentId(String sensor, String quantity) {
        return safe(sensor) + "_" + safe(quantity);
    }

    static String safe(String s) {
        return UNSAFE.matcher(s).replaceAll("_");
    }

    /** How a quantity of a sensor of {@code driver} shows in Home Assistant. */
    static Kind kind(String driver, String quantity, String unit) {
        if (driver.startsWith("gpio-") && quantity.equals("level")) return new Kind("binary_sensor", null, null, null);
        if (driver.equals("gpio-input") && quantity.equals("edges")) return new Kind("sensor", null, null, "total_increasing");
        Kind k = UNITS.get(unit);
        return k != null ? k : new Kind("sensor", null, unit.equals("1") ? null : unit, "measurement");
    }

    /** The components {@code sensors} make: each id with its platform. */
    public static Map<String, String> components(Map<String, Sensor> sensors) {
        Map<String, String> m = new java.util.TreeMap<>();
        sensors.forEach((sensor, s) -> s.quantities().forEach((quantity, unit) ->
                m.put(componentId(sensor, quantity), kind(s.driver(), quantity, unit).platform())));
        return m;
    }

    /**
     * The document. {@code topicPrefix} is the device's own ({@code P/F/D}); {@code sensors} by id;
     * {@code removed}: components published before and gone now, each with its platform.
     */
    public static Map<String, Object> document(String fleet, String device, String topicPrefix, String agentVersion,
                                               Map<String, Sensor> sensors, Map<String, String> removed) {
        String id = deviceId(fleet, device);
        Map<String, Object> doc = new LinkedHashMap<>();
        Map<String, Object> dev = new LinkedHashMap<>();
        dev.put("identifiers", List.of(id));
        dev.put("name", device);
        dev.put("manufacturer", "Meerkat");
        dev.put("model", "Meerkat gateway agent");
        dev.put("sw_version", agentVersion);
        doc.put("device", dev);
        doc.put("origin", Map.of("name", "Meerkat", "sw_version", agentVersion));
        Map<String, Object> availability = new LinkedHashMap<>();
        availability.put("topic", topicPrefix + "/status");
        availability.put("value_template", "{{ value_json.state }}");
        availability.put("payload_available", "online");
        availability.put("payload_not_available", "offline");
        doc.put("availability", List.of(availability));
        doc.put("qos", 1);
        Map<String, Object> components = new LinkedHashMap<>();
        new java.util.TreeMap<>(sensors).forEach((sensor, s) -> s.quantities().forEach((quantity, unit) ->
                components.put(componentId(sensor, quantity), component(id, topicPrefix, sensor, s.driver(), quantity, unit))));
        new java.util.TreeMap<>(removed).forEach((cid, platform) -> components.putIfAbsent(cid, Map.of("platform", platform)));
        doc.put("components", components);
        return doc;
    }

    private static Map<String, Object> component(String deviceId, String topicPrefix, String sensor, String driver, String quantity, String unit) {
        Kind k = kind(driver, quantity, unit);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("platform", k.platform());
        c.put("name", sensor + " " + quantity);
        c.put("unique_id", deviceId + "_" + componentId(sensor, quantity));
        c.put("state_topic", topicPrefix + "/sensors/" + sensor);
        if (k.deviceClass() != null) c.put("device_class", k.deviceClass());
        if (k.unit() != null) c.put("unit_of_measurement", k.unit());
        if (k.stateClass() != null) c.put("state_class", k.stateClass());
        // A reading is an object; a batch (publish.batch) an array of them, the newest last.
        String value = "(value_json if value_json is mapping else value_json | last)['values']['" + literal(quantity) + "']";
        c.put("value_template", k.platform().equals("binary_sensor") ? "{{ 'ON' if " + value + " > 0.5 else 'OFF' }}" : "{{ " + value + " }}");
        return c;
    }

    /** A quantity's name inside a Jinja string literal in single quotes. */
    private static String literal(String s) {
        return s.replace("\\", "\\\\").replace("'", "\\'");
    }
}
