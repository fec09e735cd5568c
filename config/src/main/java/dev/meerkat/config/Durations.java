package dev.meerkat.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as the SPEC writes them: {@code 500ms}, {@code 15s}, {@code 5m}, {@code 2h}, {@code 7d}. */
public final class Durations {
    private static final Pattern FORMAT = Pattern.compile("(0|[1-9][0-9]{0,9})(ms|s|m|h|d)");

    private Durations() {}

    /** Parses strictly: one whole number and one unit, no spaces, no sign, no fractions. */
    public static Duration parse(String text) {
        Matcher m = FORMAT.matcher(text == null ? "" : text);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "must be a duration like 500ms, 15s, 5m, 2h or 7d, got \"" + text + "\"");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> throw new AssertionError(m.group(2));
        };
    }

    /** The shortest exact spelling, so that {@code format(parse(s))} reads like what an operator writes. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        // One day reads better as 24h; a week as 7d.
        if (ms > 86_400_000 && ms % 86_400_000 == 0) return ms / 86_400_000 + "d";
        if (ms != 0 && ms % 3_600_000 == 0) return ms / 3_600_000 + "h";
        if (ms != 0 && ms % 60_000 == 0) return ms / 60_000 + "m";
        if (ms != 0 && ms % 1000 == 0) return ms / 1000 + "s";
        return ms + "ms";
    }
}
