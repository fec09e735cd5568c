package dev.meerkat.agent.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The sync window's decisions, with time as a parameter: when a write must be forced, and when it never needs to be. */
class UnsyncedTest {
    private static final long MS = 1_000_000, WINDOW = 100 * MS;
    private final Ledger ledger = new Ledger();
    private final Unsynced u = new Unsynced();

    /** Appends readings {@code from..to} of sensor a (ids and seqs alike) and records them written at {@code atMs}. */
    private void write(long from, long to, long atMs) {
        for (long id = from; id <= to; id++) ledger.appended("a", id, id);
        u.written(to, atMs * MS);
    }

    @Test
    void aWriteIsForcedOnlyOnceItsWindowHasPassedWithAReadingNotAcknowledged() {
        write(1, 10, 0);
        assertFalse(u.mustForce(ledger, false, 99 * MS, WINDOW), "not before the window");
        assertTrue(u.mustForce(ledger, false, 100 * MS, WINDOW));
        u.forced(10);
        assertEquals(10, u.syncedId);
        assertTrue(u.isEmpty());
    }

    @Test
    void aWriteTheBrokerAcknowledgedWholeWithinItsWindowIsNeverForced() {
        write(1, 10, 0);
        ledger.acknowledged("a", 10, 10);
        assertFalse(u.mustForce(ledger, false, 500 * MS, WINDOW));
        assertEquals(10, u.syncedId, "delivered: nothing to keep");
        assertTrue(u.isEmpty());
    }

    @Test
    void eachWriteHasItsOwnWindow() {
        write(1, 10, 0);
        ledger.acknowledged("a", 10, 10);
        write(11, 20, 90); // the next tick's readings, written just before the last one's window ends
        assertFalse(u.mustForce(ledger, false, 100 * MS, WINDOW), "the first is delivered; the second's window runs to 190 ms");
        assertEquals(190 * MS, u.due(WINDOW));
        assertTrue(u.mustForce(ledger, false, 190 * MS, WINDOW), "still not acknowledged at the end of its own window");
    }

    @Test
    void atCloseEveryWriteWithAReadingWaitingIsForcedWhateverTheWindow() {
        write(1, 10, 0);
        assertTrue(u.mustForce(ledger, true, 1 * MS, WINDOW));
        assertEquals(Long.MAX_VALUE, new Unsynced().due(WINDOW), "nothing written: nothing due");
    }
}
