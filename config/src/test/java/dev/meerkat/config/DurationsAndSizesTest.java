package dev.meerkat.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsAndSizesTest {
    @Test
    void parsesEveryUnitOfTheSpec() {
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
        assertEquals(Duration.ofSeconds(15), Durations.parse("15s"));
        assertEquals(Duration.ofMinutes(5), Durations.parse("5m"));
        assertEquals(Duration.ofHours(2), Durations.parse("2h"));
        assertEquals(Duration.ofDays(7), Durations.parse("7d"));
        assertEquals(Duration.ZERO, Durations.parse("0ms"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "5", "5 s", "-5s", "+5s", "1.5s", "05s", "5S", "5sec", "s", "5s ", " 5s", "5ms5", "99999999999s"})
    void refusesAnythingElse(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertEquals("must be a duration like 500ms, 15s, 5m, 2h or 7d, got \"" + text + "\"", e.getMessage());
    }

    @Test
    void formatsTheWayOperatorsWrite() {
        for (String s : new String[] {"500ms", "15s", "5m", "2h", "7d", "0ms", "1500ms", "90s"}) {
            assertEquals(s, Durations.format(Durations.parse(s)));
        }
    }

    @Test
    void parsesSizes() {
        assertEquals(512L << 10, Sizes.parse("512KiB"));
        assertEquals(64L << 20, Sizes.parse("64MiB"));
        assertEquals(1L << 30, Sizes.parse("1GiB"));
        assertEquals(100, Sizes.parse("100B"));
        for (String s : new String[] {"512KiB", "64MiB", "1GiB", "100B"}) assertEquals(s, Sizes.format(Sizes.parse(s)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "64", "64MB", "64mib", "-1MiB", "1.5GiB", "64 MiB", "9999999999999GiB"})
    void refusesOtherSizes(String text) {
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse(text));
    }
}
