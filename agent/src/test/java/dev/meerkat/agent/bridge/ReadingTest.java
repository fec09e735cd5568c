package dev.meerkat.agent.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The payload written by hand is byte for byte what Jackson writes, whatever the reading holds. */
class ReadingTest {
    private static final String[] PIECES = {"gw-0042", "s1", "temperature", "Cel", "%RH", "a b", "x_y.z", "", "\"", "\\", "\n", "\t",
        "\u0001", "\u007f", "é", "温度", "\uD83C\uDF21", "/", "<>&'"};

    @Test
    void aPayloadReadsBackAsTheReading() throws Exception {
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("temperature", 21.37);
        values.put("humidity", 40.0);
        Reading r = new Reading("gw-0042", "s1", 1042, Instant.parse("2026-11-21T15:00:05.012Z"), values,
                Map.of("temperature", "Cel", "humidity", "%RH"), OptionalLong.of(7));
        assertEquals(r, Reading.parse(r.payload()));
        Reading unlocked = new Reading("gw-0042", "s1", 1, r.ts(), values, Map.of(), OptionalLong.empty());
        assertEquals(unlocked, Reading.parse(unlocked.payload()));
        assertEquals(java.util.List.of("temperature", "humidity"), java.util.List.copyOf(Reading.parse(r.payload()).values().keySet()), "in the payload's order");
    }

    @Test
    void theHandWrittenPayloadIsJacksonsForTwentyThousandReadings() {
        Random rnd = new Random(20261122);
        int plain = 0;
        for (int i = 0; i < 20_000; i++) {
            Map<String, Double> values = new LinkedHashMap<>();
            Map<String, String> units = new LinkedHashMap<>();
            for (int k = rnd.nextInt(5); k > 0; k--) {
                String name = text(rnd);
                values.put(name, number(rnd));
                if (rnd.nextBoolean()) units.put(name, text(rnd));
            }
            Instant ts = switch (rnd.nextInt(4)) {
                case 0 -> Instant.ofEpochMilli(rnd.nextLong(-100_000_000_000_000L, 300_000_000_000_000L)); // years -1200 to 11400
                case 1 -> Instant.ofEpochSecond(rnd.nextLong(0, 4_000_000_000L), rnd.nextInt(1_000_000_000)); // sub-millisecond parts
                default -> Instant.ofEpochMilli(1_700_000_000_000L + rnd.nextLong(100_000_000_000L));
            };
            Reading r = new Reading(text(rnd), text(rnd), rnd.nextLong(0, Long.MAX_VALUE), ts, values, units,
                    rnd.nextBoolean() ? OptionalLong.of(rnd.nextLong()) : OptionalLong.empty());
            String jackson = new String(r.jacksonPayload(), StandardCharsets.UTF_8);
            assertEquals(jackson, new String(r.payload(), StandardCharsets.UTF_8), "reading " + i + ": " + r);
            if (jackson.chars().allMatch(c -> c >= 0x20 && c < 0x7f) && !jackson.contains("\\") && !jackson.contains("NaN")
                    && !jackson.contains("Infinity")) plain++;
        }
        assertTrue(plain > 5_000, "most readings take the hand-written way: " + plain);
    }

    private static String text(Random rnd) {
        if (rnd.nextInt(3) > 0) return PIECES[rnd.nextInt(6)]; // mostly plain
        StringBuilder b = new StringBuilder();
        for (int k = rnd.nextInt(4); k > 0; k--) b.append(PIECES[rnd.nextInt(PIECES.length)]);
        return b.toString();
    }

    private static double number(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> Double.longBitsToDouble(rnd.nextLong()); // anything, NaN and the infinities among them
            case 1 -> rnd.nextInt(2000) - 1000;
            case 2 -> -0.0;
            case 3 -> rnd.nextDouble() * Math.pow(10, rnd.nextInt(60) - 30);
            default -> Math.round(rnd.nextGaussian() * 10_000) / 100.0;
        };
    }
}
