package dev.meerkat.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConfigLayersTest {
    /** Two drivers; "strict" accepts only the setting "gain" (a whole number 1 to 16). */
    static final DriverCatalog DRIVERS = new DriverCatalog() {
        @Override
        public List<String> names() {
            return List.of("simulated", "strict");
        }

        @Override
        public void checkSettings(String driver, Fields settings) {
            if (driver.equals("strict")) settings.integer("gain", 1, 1, 16);
            else settings.keys().forEach(settings::raw);
            settings.done();
        }
    };

    static ConfigDocument doc(String znode, int version, String json) {
        return new ConfigDocument(znode, json.getBytes(StandardCharsets.UTF_8), version);
    }

    static ConfigLayer fleet(Map<String, String> sensors, String agent) {
        return ConfigLayer.of(Optional.ofNullable(agent).map(a -> doc("/fleets/f/config/agent", 3, a)),
                sensors.entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey,
                        e -> doc("/fleets/f/config/sensors/" + e.getKey(), 1, e.getValue()))));
    }

    static ConfigLayer device(Map<String, String> sensors, String agent) {
        return ConfigLayer.of(Optional.ofNullable(agent).map(a -> doc("/fleets/f/devices/d/config/agent", 7, a)),
                sensors.entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey,
                        e -> doc("/fleets/f/devices/d/config/sensors/" + e.getKey(), 2, e.getValue()))));
    }

    @Test
    void deviceLayerOverridesKeyByKeyAndCanSwitchAFleetSensorOff() {
        var r = ConfigLayers.build(
                fleet(Map.of("a", "{\"driver\":\"simulated\",\"interval\":\"1s\",\"qos\":0}",
                        "b", "{\"driver\":\"simulated\"}"), "{\"mqtt\":{\"topicPrefix\":\"x\",\"qos\":0},\"logLevel\":\"debug\"}"),
                device(Map.of("a", "{\"interval\":\"250ms\"}", "b", "{\"enabled\":false}",
                        "c", "{\"driver\":\"strict\",\"settings\":{\"gain\":4}}"), "{\"mqtt\":{\"qos\":1}}"),
                DRIVERS);
        assertEquals(List.of(), r.errors());
        EffectiveConfig c = r.config();
        assertEquals(List.of("a", "c"), List.copyOf(c.sensors().keySet()));
        assertEquals(Duration.ofMillis(250), c.sensors().get("a").interval());
        assertEquals(0, c.sensors().get("a").qosOr(1), "the fleet's qos stays where the device says nothing");
        assertEquals("x", c.agent().mqtt().topicPrefix());
        assertEquals(1, c.agent().mqtt().qos());
        assertEquals("debug", c.agent().logLevel());
        assertEquals(3, c.fleetVersion());
        assertEquals(7, c.deviceVersion());
        assertTrue(c.digest().startsWith("sha256:"));
    }

    @Test
    void aBadDocumentIsReportedWithItsZnodeAndPathWhileTheOthersApply() {
        var r = ConfigLayers.build(
                fleet(Map.of("good", "{\"driver\":\"simulated\"}",
                        "bad", "{\"driver\":\"simulated\",\"interval\":\"-5s\"}",
                        "typo", "{\"driver\":\"simulatd\"}",
                        "broken", "{\"driver\":"),
                        "{\"logLevel\":\"loud\"}"),
                device(Map.of("c", "{\"driver\":\"strict\",\"settings\":{\"gain\":99,\"x\":1}}"), null),
                DRIVERS);
        assertEquals(List.of("good"), List.copyOf(r.config().sensors().keySet()));
        assertEquals("info", r.config().agent().logLevel(), "a rejected agent document does not apply");
        List<String> errors = r.errors().stream().map(ConfigError::toString).toList();
        assertTrue(errors.contains("/fleets/f/config/agent $.logLevel: must be one of error, warn, info, debug, trace, got \"loud\""), errors.toString());
        assertTrue(errors.contains("/fleets/f/config/sensors/bad $.interval: must be a duration like 500ms, 15s, 5m, 2h or 7d, got \"-5s\""), errors.toString());
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("/fleets/f/config/sensors/typo $.driver: is not a known driver")), errors.toString());
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("/fleets/f/config/sensors/broken $: does not parse")), errors.toString());
        assertTrue(errors.contains("/fleets/f/devices/d/config/sensors/c $.settings.gain: must be between 1 and 16, got 99"), errors.toString());
        assertTrue(errors.contains("/fleets/f/devices/d/config/sensors/c $.settings.x: is not a known key"), errors.toString());
    }

    @Test
    void rangesAreChecked() {
        var r = ConfigLayers.build(fleet(Map.of("s", "{\"driver\":\"simulated\",\"interval\":\"5ms\",\"qos\":2,"
                + "\"bus\":{\"i2c\":1,\"address\":\"0x99\"}}"), "{\"buffer\":{\"maxBytes\":\"1KiB\"}}"),
                ConfigLayer.empty(), DRIVERS);
        List<String> errors = r.errors().stream().map(ConfigError::toString).toList();
        assertTrue(errors.contains("/fleets/f/config/sensors/s $.interval: must be between 10ms and 24h, got 5ms"), errors.toString());
        assertTrue(errors.contains("/fleets/f/config/sensors/s $.qos: must be between 0 and 1, got 2"), errors.toString());
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("/fleets/f/config/sensors/s $.bus.address: must be a 7-bit I2C address")), errors.toString());
        assertTrue(errors.contains("/fleets/f/config/agent $.buffer.maxBytes: must be between 1MiB and 1024GiB, got 1KiB"), errors.toString());
    }

    @Test
    void theSyncWindowIsZeroToTenSecondsAndAHundredMillisecondsByDefault() {
        assertEquals(Duration.ofMillis(100), ConfigLayers.build(fleet(Map.of(), null), ConfigLayer.empty(), DRIVERS).config().agent().buffer().syncInterval());
        var ok = ConfigLayers.build(fleet(Map.of(), "{\"buffer\":{\"syncInterval\":\"1s\"}}"), ConfigLayer.empty(), DRIVERS);
        assertEquals(Duration.ofSeconds(1), ok.config().agent().buffer().syncInterval());
        var zero = ConfigLayers.build(fleet(Map.of(), "{\"buffer\":{\"syncInterval\":\"0ms\"}}"), ConfigLayer.empty(), DRIVERS);
        assertEquals(Duration.ZERO, zero.config().agent().buffer().syncInterval());
        var bad = ConfigLayers.build(fleet(Map.of(), "{\"buffer\":{\"syncInterval\":\"1m\"}}"), ConfigLayer.empty(), DRIVERS);
        assertEquals(List.of("/fleets/f/config/agent $.buffer.syncInterval: must be between 0ms and 10s, got 1m"),
                bad.errors().stream().map(ConfigError::toString).toList());
    }

    @Test
    void homeAssistantDiscoveryIsOffByDefaultAndItsPrefixATopic() {
        var ha = ConfigLayers.build(fleet(Map.of(), null), ConfigLayer.empty(), DRIVERS).config().agent().publish().homeAssistant();
        assertEquals(new AgentSettings.HomeAssistant(false, "homeassistant"), ha);
        var on = ConfigLayers.build(fleet(Map.of(), "{\"publish\":{\"homeAssistant\":{\"discovery\":true,\"prefix\":\"ha/discovery\"}}}"),
                ConfigLayer.empty(), DRIVERS);
        assertEquals(new AgentSettings.HomeAssistant(true, "ha/discovery"), on.config().agent().publish().homeAssistant());
        var bad = ConfigLayers.build(fleet(Map.of(), "{\"publish\":{\"homeAssistant\":{\"discovery\":\"yes\",\"prefix\":\"ha/#\",\"retain\":1}}}"),
                ConfigLayer.empty(), DRIVERS);
        List<String> errors = bad.errors().stream().map(ConfigError::toString).toList();
        assertEquals(3, errors.size(), errors.toString());
        assertTrue(errors.get(0).startsWith("/fleets/f/config/agent $.publish.homeAssistant.discovery: "), errors.toString());
        assertTrue(errors.get(1).startsWith("/fleets/f/config/agent $.publish.homeAssistant.prefix: "), errors.toString());
        assertTrue(errors.get(2).startsWith("/fleets/f/config/agent $.publish.homeAssistant.retain: "), errors.toString());
    }

    @Test
    void sparkplugBIsAFormatItsPrimaryHostOneTopicLevelAndHomeAssistantStaysWithJson() {
        var sp = ConfigLayers.build(fleet(Map.of(), "{\"publish\":{\"format\":\"sparkplug-b\",\"sparkplug\":{\"primaryHostId\":\"scada-1\"}}}"),
                ConfigLayer.empty(), DRIVERS);
        assertEquals(List.of(), sp.errors());
        assertEquals("sparkplug-b", sp.config().agent().publish().format());
        assertEquals("scada-1", sp.config().agent().publish().sparkplug().primaryHostId());
        assertEquals("", ConfigLayers.build(fleet(Map.of(), null), ConfigLayer.empty(), DRIVERS).config().agent().publish().sparkplug().primaryHostId(),
                "no primary host unless one is named");
        var bad = ConfigLayers.build(fleet(Map.of(), "{\"publish\":{\"format\":\"sparkplug-b\",\"homeAssistant\":{\"discovery\":true},"
                + "\"sparkplug\":{\"primaryHostId\":\"a/b\"}}}"), ConfigLayer.empty(), DRIVERS);
        List<String> errors = bad.errors().stream().map(ConfigError::toString).toList();
        assertEquals(2, errors.size(), errors.toString());
        assertTrue(errors.get(0).startsWith("/fleets/f/config/agent $.publish.homeAssistant.discovery: ") && errors.get(0).contains("json only"),
                errors.toString());
        assertTrue(errors.get(1).startsWith("/fleets/f/config/agent $.publish.sparkplug.primaryHostId: "), errors.toString());
        var unknown = ConfigLayers.build(fleet(Map.of(), "{\"publish\":{\"format\":\"protobuf\"}}"), ConfigLayer.empty(), DRIVERS);
        assertTrue(unknown.errors().get(0).toString().startsWith("/fleets/f/config/agent $.publish.format: "), unknown.errors().toString());
    }

    @Test
    void electionCandidatesAreOneToAHundredAndFiveByDefault() {
        assertEquals(5, ConfigLayers.build(fleet(Map.of(), null), ConfigLayer.empty(), DRIVERS).config().agent().election().candidates());
        var three = ConfigLayers.build(fleet(Map.of(), "{\"election\":{\"candidates\":3}}"), ConfigLayer.empty(), DRIVERS);
        assertEquals(3, three.config().agent().election().candidates());
        var bad = ConfigLayers.build(fleet(Map.of(), "{\"election\":{\"candidates\":0,\"standing\":true}}"), ConfigLayer.empty(), DRIVERS);
        List<String> errors = bad.errors().stream().map(ConfigError::toString).toList();
        assertTrue(errors.contains("/fleets/f/config/agent $.election.candidates: must be between 1 and 100, got 0"), errors.toString());
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("/fleets/f/config/agent $.election.standing: ")), errors.toString());
    }

    @Test
    void aLockPathWithDotSegmentsIsRejectedInValidation() {
        for (String bad : List.of("../../fleets/f1/members", "site/./x", "a/..", ".", "a//b", "/a")) {
            var r = ConfigLayers.build(fleet(Map.of("s", "{\"driver\":\"simulated\",\"lock\":\"" + bad + "\"}"), null),
                    ConfigLayer.empty(), DRIVERS);
            List<String> errors = r.errors().stream().map(ConfigError::toString).toList();
            assertTrue(errors.stream().anyMatch(e -> e.startsWith("/fleets/f/config/sensors/s $.lock: ")), bad + ": " + errors);
        }
        for (String good : List.of("site-7/i2c-1/0x76", "a.b/..c/d..", ".hidden/x")) {
            var r = ConfigLayers.build(fleet(Map.of("s", "{\"driver\":\"simulated\",\"lock\":\"" + good + "\"}"), null),
                    ConfigLayer.empty(), DRIVERS);
            assertEquals(List.of(), r.errors(), good);
        }
    }

    @Test
    void theDigestFollowsTheContent() {
        var a = ConfigLayers.build(fleet(Map.of("s", "{\"driver\":\"simulated\"}"), null), ConfigLayer.empty(), DRIVERS);
        var b = ConfigLayers.build(fleet(Map.of("s", "{\"driver\":\"simulated\"}"), null), ConfigLayer.empty(), DRIVERS);
        var c = ConfigLayers.build(fleet(Map.of("s", "{\"driver\":\"simulated\",\"interval\":\"1s\"}"), null), ConfigLayer.empty(), DRIVERS);
        assertEquals(a.config().digest(), b.config().digest());
        assertNotEquals(a.config().digest(), c.config().digest());
    }
}
