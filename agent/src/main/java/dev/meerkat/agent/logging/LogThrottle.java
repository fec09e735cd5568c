package dev.meerkat.agent.logging;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.LogRecord;

/**
 * Keeps the libraries' repeated lines from flooding the journal during an outage (ZooKeeper's client
 * logs each failed resolve and each closed connection, several a second with unreachable servers):
 * per logger and level, the first line goes out at once, then at most one per window, the window
 * doubling from {@link #FIRST} to {@link #LONGEST} while the lines keep coming; the line that goes
 * out says how many like it were held back. A key quiet for longer than its window starts again at
 * {@link #FIRST}, so the first line of the next outage is not held back. Time is the record's own.
 * Meerkat's own lines are not throttled here: they say each thing once, or back off themselves.
 */
final class LogThrottle {
    static final Duration FIRST = Duration.ofSeconds(30);
    static final Duration LONGEST = Duration.ofMinutes(10);

    private static final class Key {
        Instant lastOut;
        Instant lastSeen;
        Duration window = FIRST;
        int held;
        Instant heldSince;
    }

    private final Map<String, Key> keys = new HashMap<>();

    /**
     * Whether {@code r} goes out, and with which suffix: null when it is held back, "" when it goes
     * as it is, else the note on the lines held back before it.
     */
    synchronized String admit(LogRecord r) {
        String name = r.getLoggerName() == null ? "" : r.getLoggerName();
        if (name.startsWith("dev.meerkat")) return "";
        Instant now = r.getInstant();
        Key k = keys.computeIfAbsent(name + "|" + r.getLevel().getName(), x -> new Key());
        if (k.lastOut != null && Duration.between(k.lastSeen, now).compareTo(k.window) > 0) {
            k.window = FIRST; // quiet for a whole window: a new episode, whose first line goes out at once
            k.lastOut = null;
        }
        k.lastSeen = now;
        if (k.lastOut != null && Duration.between(k.lastOut, now).compareTo(k.window) < 0) {
            if (k.held++ == 0) k.heldSince = now;
            return null;
        }
        if (k.lastOut != null) k.window = doubled(k.window);
        String note = k.held == 0 ? "" : " (" + k.held + " more like it held back since " + k.heldSince + "; the next at most "
                + k.window.toSeconds() + " s from now)";
        k.lastOut = now;
        k.held = 0;
        k.heldSince = null;
        return note;
    }

    private static Duration doubled(Duration d) {
        Duration two = d.multipliedBy(2);
        return two.compareTo(LONGEST) > 0 ? LONGEST : two;
    }
}
