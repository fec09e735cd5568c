package dev.meerkat.config;

import static dev.meerkat.config.ConfigLayersTest.DRIVERS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A rejected document never reaches the running agent: its last good version stays in force. */
class LastGoodTest {
    static ConfigDocument doc(String znode, int version, String json) {
        return new ConfigDocument(znode, json.getBytes(StandardCharsets.UTF_8), version);
    }

    static final String S1 = "/fleets/f/config/sensors/s1";
    static final String AGENT = "/fleets/f/config/agent";
    static final String OVERRIDE = "/fleets/f/devices/d/config/sensors/s1";

    @Test
    void aBadNewVersionKeepsTheLastGoodOneRunning() {
        var good = ConfigLayers.build(
                ConfigLayer.of(Optional.of(doc(AGENT, 1, "{\"logLevel\":\"debug\"}")),
                        Map.of("s1", doc(S1, 4, "{\"driver\":\"simulated\",\"interval\":\"250ms\"}"))),
                ConfigLayer.empty(), DRIVERS);
        assertEquals(List.of(), good.errors());

        var bad = ConfigLayers.build(
                ConfigLayer.of(Optional.of(doc(AGENT, 2, "{\"logLevel\":\"chatty\"}")),
                        Map.of("s1", doc(S1, 5, "{\"driver\":\"simulated\",\"interval\":\"-5s\"}"))),
                ConfigLayer.empty(), DRIVERS, good.used());
        assertEquals(Duration.ofMillis(250), bad.config().sensors().get("s1").interval());
        assertEquals("debug", bad.config().agent().logLevel());
        assertEquals(good.config().digest(), bad.config().digest(), "the running config does not change");
        assertEquals(4, bad.config().fleetVersion(), "the versions are those of the documents in force");
        assertEquals(List.of(AGENT + " $.logLevel", S1 + " $.interval"),
                bad.errors().stream().map(e -> e.source() + " " + e.path()).sorted().toList());
        assertEquals(good.used().keySet(), bad.used().keySet());
        assertEquals(4, bad.used().get(S1).version());
    }

    @Test
    void aBadDocumentWithNoGoodPastIsLeftOutAndABrokenOverrideTakesTheSensorOff() {
        var r = ConfigLayers.build(
                ConfigLayer.of(Optional.empty(), Map.of("s1", doc(S1, 0, "{\"driver\":\"simulated\"}"),
                        "s2", doc("/fleets/f/config/sensors/s2", 0, "not json"))),
                ConfigLayer.of(Optional.empty(), Map.of("s1", doc(OVERRIDE, 0, "{\"interval\":\"1ms\"}"))),
                DRIVERS);
        assertEquals(List.of(), List.copyOf(r.config().sensors().keySet()));
        assertEquals(2, r.errors().size(), r.errors().toString());
    }

    @Test
    void aFixedDocumentAppliesAgainAndADeletedOneIsGone() {
        var first = ConfigLayers.build(ConfigLayer.of(Optional.empty(), Map.of("s1", doc(S1, 0, "{\"driver\":\"simulated\"}"))),
                ConfigLayer.empty(), DRIVERS);
        var broken = ConfigLayers.build(ConfigLayer.of(Optional.empty(), Map.of("s1", doc(S1, 1, "{"))),
                ConfigLayer.empty(), DRIVERS, first.used());
        var fixed = ConfigLayers.build(ConfigLayer.of(Optional.empty(), Map.of("s1", doc(S1, 2, "{\"driver\":\"simulated\",\"interval\":\"2s\"}"))),
                ConfigLayer.empty(), DRIVERS, broken.used());
        assertTrue(fixed.errors().isEmpty());
        assertEquals(Duration.ofSeconds(2), fixed.config().sensors().get("s1").interval());
        assertEquals(2, fixed.config().fleetVersion());
        var deleted = ConfigLayers.build(ConfigLayer.empty(), ConfigLayer.empty(), DRIVERS, fixed.used());
        assertTrue(deleted.config().sensors().isEmpty());
        assertTrue(deleted.used().isEmpty());
    }
}
