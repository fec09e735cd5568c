package dev.meerkat.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * One sensor of the effective config (SPEC §4). {@code settings} belong to the driver, which has
 * checked them; treat the node as read-only.
 */
public record SensorConfig(String id, String driver, Bus bus, Duration interval, Optional<String> lock,
                           OptionalInt qos, JsonNode settings) {

    public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    public static final Duration MIN_INTERVAL = Duration.ofMillis(10);
    public static final Duration MAX_INTERVAL = Duration.ofHours(24);
    /** Names separated by '/', none of them "." or ".." (which would climb out of the locks' subtree). */
    private static final Pattern LOCK = Pattern.compile("(?!\\.{1,2}(/|$))[A-Za-z0-9._-]+(/(?!\\.{1,2}(/|$))[A-Za-z0-9._-]+)*");

    /** Reads a whole sensor document; returns null when it is switched off ({@code "enabled": false}). */
    static SensorConfig read(String id, Fields f, DriverCatalog drivers) {
        boolean enabled = f.bool("enabled", true);
        String driver = f.required("driver");
        if (driver != null && !drivers.names().contains(driver)) {
            f.error("driver", "is not a known driver, got \"" + driver + "\"; known: " + String.join(", ", drivers.names()));
            driver = null;
        }
        Bus bus = Bus.read(f.object("bus"));
        Duration interval = f.duration("interval", Duration.ofSeconds(5), MIN_INTERVAL, MAX_INTERVAL);
        String lock = f.string("lock", null, LOCK, "a path of names separated by '/', none of them '.' or '..', like site-7/i2c-1/0x76");
        OptionalInt qos = f.has("qos") ? OptionalInt.of(f.integer("qos", 1, 0, 1)) : OptionalInt.empty();
        JsonNode settings = f.raw("settings");
        if (settings == null) settings = JsonNodeFactory.instance.objectNode();
        if (driver != null) {
            Fields s = Fields.of(settings, f.source(), f.pathOf("settings"), f.errorList());
            drivers.checkSettings(driver, s);
            String busError = drivers.checkBus(driver, bus);
            if (busError != null) f.error("bus", busError);
        }
        f.done();
        if (!enabled) return null;
        return new SensorConfig(id, driver, bus, interval, Optional.ofNullable(lock), qos, settings.deepCopy());
    }

    /** The QoS this sensor publishes with: its own, else the agent's. */
    public int qosOr(int agentQos) {
        return qos.orElse(agentQos);
    }
}
