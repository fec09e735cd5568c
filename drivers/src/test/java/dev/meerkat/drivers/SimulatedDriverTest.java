package dev.meerkat.drivers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.config.ConfigError;
import dev.meerkat.config.Fields;
import dev.meerkat.config.Json;
import dev.meerkat.config.SensorConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class SimulatedDriverTest {
    final Driver driver = Drivers.load().get("simulated").orElseThrow();

    SensorConfig sensor(String settings) throws Exception {
        return new SensorConfig("s1", "simulated", dev.meerkat.config.Bus.NONE, Duration.ofSeconds(1), Optional.empty(),
                OptionalInt.empty(), Json.mapper().readTree(settings));
    }

    List<ConfigError> check(String settings) throws Exception {
        List<ConfigError> errors = new ArrayList<>();
        driver.checkSettings(Fields.root(Json.mapper().readTree(settings), "/s", errors));
        return errors;
    }

    @Test
    void isFoundByServiceLoader() {
        assertTrue(Drivers.load().names().contains("simulated"));
    }

    @Test
    void valuesFollowBaseAmplitudeAndNoise() throws Exception {
        Clock clock = Clock.fixed(Instant.parse("2026-11-21T15:00:00Z"), ZoneOffset.UTC);
        try (Sensor s = driver.open(sensor("""
                {"seed": 1, "values": {"temperature": {"base": 21, "noise": 0.5, "unit": "Cel"},
                                       "flat": {"base": 7, "noise": 0}}}"""), new DriverContext(clock, "gw"))) {
            double sum = 0;
            int n = 2000;
            for (int i = 0; i < n; i++) {
                Sample sample = s.read();
                assertEquals(List.of("temperature", "flat"), List.copyOf(sample.values().keySet()));
                assertEquals(7.0, sample.values().get("flat"));
                sum += sample.values().get("temperature");
            }
            assertEquals(21.0, sum / n, 0.05);
            assertEquals("Cel", s.read().units().get("temperature"));
            assertEquals("1", s.read().units().get("flat"));
        }
    }

    @Test
    void theSameSeedGivesTheSameValues() throws Exception {
        Clock clock = Clock.fixed(Instant.EPOCH, ZoneOffset.UTC);
        try (Sensor a = driver.open(sensor("{\"seed\": 5}"), new DriverContext(clock, "gw"));
             Sensor b = driver.open(sensor("{\"seed\": 5}"), new DriverContext(clock, "gw"))) {
            for (int i = 0; i < 10; i++) assertEquals(a.read(), b.read());
        }
    }

    @Test
    void settingsAreChecked() throws Exception {
        assertEquals(List.of(), check("{\"values\": {\"t\": {\"base\": 1, \"period\": \"1m\"}}}"));
        List<String> errors = check("{\"values\": {\"t\": {\"noise\": -1, \"period\": \"1ms\", \"colour\": 1}}, \"x\": 1}")
                .stream().map(ConfigError::toString).toList();
        assertEquals(List.of(
                "/s $.values.t.period: must be between 1s and 7d, got 1ms",
                "/s $.values.t.noise: must be 0 or more, got -1.0",
                "/s $.values.t.colour: is not a known key",
                "/s $.x: is not a known key"), errors);
    }
}
