package dev.meerkat.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes as the SPEC writes them: {@code 512KiB}, {@code 64MiB}, {@code 1GiB} (and plain {@code B}). */
public final class Sizes {
    private static final Pattern FORMAT = Pattern.compile("(0|[1-9][0-9]{0,12})(B|KiB|MiB|GiB)");

    private Sizes() {}

    public static long parse(String text) {
        Matcher m = FORMAT.matcher(text == null ? "" : text);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "must be a size like 512KiB, 64MiB or 1GiB, got \"" + text + "\"");
        }
        long n = Long.parseLong(m.group(1));
        int shift = switch (m.group(2)) {
            case "B" -> 0;
            case "KiB" -> 10;
            case "MiB" -> 20;
            case "GiB" -> 30;
            default -> throw new AssertionError(m.group(2));
        };
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("is too large, got \"" + text + "\"");
        }
        return n << shift;
    }

    public static String format(long bytes) {
        if (bytes != 0 && bytes % (1L << 30) == 0) return (bytes >> 30) + "GiB";
        if (bytes != 0 && bytes % (1L << 20) == 0) return (bytes >> 20) + "MiB";
        if (bytes != 0 && bytes % (1L << 10) == 0) return (bytes >> 10) + "KiB";
        return bytes + "B";
    }
}
