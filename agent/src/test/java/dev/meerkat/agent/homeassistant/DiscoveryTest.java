package dev.meerkat.agent.homeassistant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import dev.meerkat.agent.bridge.Reading;
import dev.meerkat.config.Json;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The discovery document against Home Assistant's documented schema for device discovery (MQTT
 * integration, "Device discovery payload" and the sensor and binary sensor platforms): the
 * required keys, no abbreviations mixed in, a device class only with a unit Home Assistant accepts
 * for it, valid state classes; and each value template, evaluated by a Jinja engine (Jinjava) as
 * Home Assistant would, gives the value of real readings, single and batched.
 */
class DiscoveryTest {
    /** Home Assistant's units per sensor device class (the sensor platform's documentation), for the classes used here. */
    static final Map<String, Set<String>> UNITS = Map.of(
            "temperature", Set.of("°C", "°F", "K"),
            "humidity", Set.of("%"),
            "pressure", Set.of("cbar", "bar", "hPa", "mmHg", "inHg", "kPa", "mbar", "Pa", "psi"),
            "illuminance", Set.of("lx"),
            "voltage", Set.of("V", "mV", "µV", "kV", "MV"));
    static final Set<String> STATE_CLASSES = Set.of("measurement", "measurement_angle", "total", "total_increasing");

    static final Map<String, Discovery.Sensor> SENSORS = Map.of(
            "climate", new Discovery.Sensor("bme280", quantities("temperature", "Cel", "humidity", "%RH", "pressure", "hPa")),
            "door", new Discovery.Sensor("gpio-input", quantities("level", "1", "edges", "1")),
            "light", new Discovery.Sensor("bh1750", quantities("illuminance", "lx")),
            "battery", new Discovery.Sensor("ads1115", quantities("voltage", "V")),
            "sim.1", new Discovery.Sensor("simulated", quantities("flow", "L/min", "it's", "1")));

    static Map<String, String> quantities(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> doc(Map<String, String> removed) throws Exception {
        byte[] bytes = Json.write(Discovery.document("green house", "gw-7", "meerkat/green house/gw-7", "1.2.3", SENSORS, removed));
        return new ObjectMapper().readValue(bytes, Map.class);
    }

    @Test
    @SuppressWarnings("unchecked")
    void theDocumentHasWhatHomeAssistantRequires() throws Exception {
        assertEquals("homeassistant/device/meerkat_green_house_gw-7/config", Discovery.topic("homeassistant", "green house", "gw-7"));
        Map<String, Object> d = doc(Map.of());
        for (String key : d.keySet()) {
            assertTrue(Set.of("device", "origin", "availability", "qos", "components").contains(key), "a top-level key Home Assistant knows: " + key);
        }
        Map<String, Object> dev = (Map<String, Object>) d.get("device");
        assertEquals(List.of("meerkat_green_house_gw-7"), dev.get("identifiers"));
        assertEquals("Meerkat", ((Map<String, Object>) d.get("origin")).get("name"), "origin is required in device discovery");
        assertEquals("1.2.3", ((Map<String, Object>) d.get("origin")).get("sw_version"));
        Map<String, Object> avty = ((List<Map<String, Object>>) d.get("availability")).get(0);
        assertEquals("meerkat/green house/gw-7/status", avty.get("topic"));
        assertEquals("online", render((String) avty.get("value_template"), Map.of("state", "online")), "availability from the status topic");
        assertEquals("offline", render((String) avty.get("value_template"), Map.of("state", "offline")));

        Map<String, Map<String, Object>> cmps = (Map<String, Map<String, Object>>) d.get("components");
        assertEquals(Set.of("climate_temperature", "climate_humidity", "climate_pressure", "door_level", "door_edges", "light_illuminance",
                "battery_voltage", "sim_1_flow", "sim_1_it_s"), cmps.keySet());
        Set<String> uniqueIds = new java.util.HashSet<>();
        cmps.forEach((id, c) -> {
            assertNotNull(c.get("platform"), id);
            assertTrue(uniqueIds.add((String) c.get("unique_id")), "unique_id unique: " + id);
            assertTrue(((String) c.get("unique_id")).startsWith("meerkat_green_house_gw-7_"), "unique_id from fleet, device, sensor, quantity");
            Object dc = c.get("device_class"), unit = c.get("unit_of_measurement"), sc = c.get("state_class");
            if (dc != null) assertTrue(UNITS.get(dc).contains(unit), id + ": " + unit + " is not a unit of device class " + dc);
            if (sc != null) assertTrue(STATE_CLASSES.contains(sc), id + ": state_class " + sc);
            if (c.get("platform").equals("binary_sensor")) assertFalse(c.containsKey("state_class") || c.containsKey("unit_of_measurement"), id);
            else assertNotNull(sc, id + ": a sensor without state_class gets no long-term statistics");
        });
        assertEquals("temperature", cmps.get("climate_temperature").get("device_class"));
        assertEquals("°C", cmps.get("climate_temperature").get("unit_of_measurement"));
        assertEquals("%", cmps.get("climate_humidity").get("unit_of_measurement"));
        assertEquals("binary_sensor", cmps.get("door_level").get("platform"));
        assertEquals("total_increasing", cmps.get("door_edges").get("state_class"));
        assertEquals("L/min", cmps.get("sim_1_flow").get("unit_of_measurement"));
        assertFalse(cmps.get("sim_1_it_s").containsKey("unit_of_measurement"), "a dimensionless quantity has no unit");
        assertEquals("meerkat/green house/gw-7/sensors/climate", cmps.get("climate_temperature").get("state_topic"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void eachValueTemplateGivesTheValueOfARealReadingSingleOrBatched() throws Exception {
        Map<String, Map<String, Object>> cmps = (Map<String, Map<String, Object>>) doc(Map.of()).get("components");
        Reading first = new Reading("gw-7", "climate", 41, Instant.parse("2026-12-06T12:00:00Z"),
                Map.of("temperature", 21.37, "humidity", 40.1, "pressure", 1013.2), Map.of("temperature", "Cel", "humidity", "%RH", "pressure", "hPa"), java.util.OptionalLong.empty());
        Reading newest = new Reading("gw-7", "climate", 42, Instant.parse("2026-12-06T12:00:05Z"),
                Map.of("temperature", 21.5, "humidity", 40.3, "pressure", 1013.0), Map.of("temperature", "Cel", "humidity", "%RH", "pressure", "hPa"), java.util.OptionalLong.empty());
        Object single = parse(first.payload());
        Object batch = new ObjectMapper().readValue(Json.write(List.of(first.toJson(), newest.toJson())), Object.class);
        assertEquals("21.37", render((String) cmps.get("climate_temperature").get("value_template"), single));
        assertEquals("40.1", render((String) cmps.get("climate_humidity").get("value_template"), single));
        assertEquals("1013.2", render((String) cmps.get("climate_pressure").get("value_template"), single));
        assertEquals("21.5", render((String) cmps.get("climate_temperature").get("value_template"), batch), "a batch: its newest reading");
        assertEquals("1013.0", render((String) cmps.get("climate_pressure").get("value_template"), batch));

        Reading high = new Reading("gw-7", "door", 3, Instant.parse("2026-12-06T12:00:00Z"), Map.of("level", 1.0, "edges", 5.0),
                Map.of("level", "1", "edges", "1"), java.util.OptionalLong.empty());
        Reading low = new Reading("gw-7", "door", 4, Instant.parse("2026-12-06T12:00:01Z"), Map.of("level", 0.0, "edges", 6.0),
                Map.of("level", "1", "edges", "1"), java.util.OptionalLong.empty());
        assertEquals("ON", render((String) cmps.get("door_level").get("value_template"), parse(high.payload())));
        assertEquals("OFF", render((String) cmps.get("door_level").get("value_template"), parse(low.payload())));
        assertEquals("6.0", render((String) cmps.get("door_edges").get("value_template"), parse(low.payload())));
        Reading odd = new Reading("gw-7", "sim.1", 1, Instant.parse("2026-12-06T12:00:00Z"), Map.of("flow", 2.5, "it's", 7.0),
                Map.of("flow", "L/min", "it's", "1"), java.util.OptionalLong.empty());
        assertEquals("7.0", render((String) cmps.get("sim_1_it_s").get("value_template"), parse(odd.payload())), "a quote in a quantity's name");
    }

    @Test
    @SuppressWarnings("unchecked")
    void aRemovedComponentStaysAsItsPlatformAlone() throws Exception {
        Map<String, Map<String, Object>> cmps = (Map<String, Map<String, Object>>) doc(Map.of("old_temperature", "sensor",
                "climate_temperature", "sensor")).get("components");
        assertEquals(Map.of("platform", "sensor"), cmps.get("old_temperature"), "Home Assistant removes a component published with its platform only");
        assertTrue(cmps.get("climate_temperature").containsKey("unique_id"), "a component still there is not removed");
        assertEquals(Map.of("climate_temperature", "sensor", "door_level", "binary_sensor"),
                new java.util.TreeMap<>(Discovery.components(Map.of("climate", new Discovery.Sensor("bme280", Map.of("temperature", "Cel")),
                        "door", new Discovery.Sensor("gpio-output", Map.of("level", "1"))))));
    }

    static Object parse(byte[] payload) throws Exception {
        return new ObjectMapper().readValue(payload, Object.class);
    }

    /** As Home Assistant renders a value template: the payload parsed as {@code value_json}. */
    static String render(String template, Object valueJson) {
        Jinjava jinja = new Jinjava();
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("value_json", valueJson);
        String out = jinja.render(template, context).trim();
        return out;
    }
}
