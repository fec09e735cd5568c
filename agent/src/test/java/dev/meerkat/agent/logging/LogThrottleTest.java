package dev.meerkat.agent.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

/** The libraries' repeated lines during an outage, on the records' own clock. */
class LogThrottleTest {
    private static final Instant T0 = Instant.parse("2026-12-06T00:00:00Z");

    private static LogRecord record(String logger, Level level, long atSeconds) {
        LogRecord r = new LogRecord(level, "Unable to resolve address: zk1/<unresolved>:2181");
        r.setLoggerName(logger);
        r.setInstant(T0.plusSeconds(atSeconds));
        return r;
    }

    @Test
    void anOutageOfTenMinutesAtFourLinesASecondGivesAHandfulBackingOff() {
        LogThrottle t = new LogThrottle();
        List<Long> out = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (long ms = 0; ms < 600_000; ms += 250) {
            LogRecord r = record("org.apache.zookeeper.client.StaticHostProvider", Level.SEVERE, 0);
            r.setInstant(T0.plusMillis(ms));
            String note = t.admit(r);
            if (note != null) {
                out.add(ms / 1000);
                notes.add(note);
            }
        }
        // At once, then windows of 30, 60, 120, 240 s.
        assertEquals(List.of(0L, 30L, 90L, 210L, 450L), out);
        assertEquals("", notes.get(0));
        assertTrue(notes.get(1).startsWith(" (119 more like it held back since 2026-12-06T00:00:00.250Z; the next at most 60 s from now)"), notes.get(1));
    }

    @Test
    void eachLoggerAndLevelHasItsOwnWindowAndMeerkatsLinesAreNeverHeld() {
        LogThrottle t = new LogThrottle();
        assertNotNull(t.admit(record("org.apache.zookeeper.ClientCnxn", Level.WARNING, 0)));
        assertNull(t.admit(record("org.apache.zookeeper.ClientCnxn", Level.WARNING, 1)));
        assertNotNull(t.admit(record("org.apache.zookeeper.ClientCnxn", Level.SEVERE, 1)), "another level");
        assertNotNull(t.admit(record("org.apache.curator.framework.imps.CuratorFrameworkImpl", Level.SEVERE, 1)), "another logger");
        for (int i = 0; i < 100; i++) assertEquals("", t.admit(record("dev.meerkat.agent.Agent", Level.WARNING, i)));
    }

    @Test
    void aQuietSpellLongerThanTheWindowStartsAgain() {
        LogThrottle t = new LogThrottle();
        String logger = "org.apache.zookeeper.ClientCnxn";
        assertNotNull(t.admit(record(logger, Level.WARNING, 0)));
        assertNotNull(t.admit(record(logger, Level.WARNING, 30)));
        assertNull(t.admit(record(logger, Level.WARNING, 31)));
        // The outage ended; the next one, minutes later, is told at once, and its window is the first again.
        String note = t.admit(record(logger, Level.WARNING, 400));
        assertNotNull(note);
        assertTrue(note.startsWith(" (1 more like it held back since 2026-12-06T00:00:31Z"), note);
        assertNull(t.admit(record(logger, Level.WARNING, 410)));
        assertNotNull(t.admit(record(logger, Level.WARNING, 430)));
    }
}
