package dev.meerkat.agent.journal;

import java.util.ArrayDeque;

/**
 * The sync window's bookkeeping ({@code buffer.syncInterval}): the writes not yet forced to the
 * card, oldest first, each with its last id and when it was written, and how far the card has the
 * journal. Guarded by the journal's lock; the writer forces, this decides.
 */
final class Unsynced {
    /** Records at or below it are on the card, or were acknowledged before they had to be. */
    long syncedId;
    private final ArrayDeque<long[]> writes = new ArrayDeque<>();

    boolean isEmpty() {
        return writes.isEmpty();
    }

    /** A write up to {@code lastId} was made at {@code nanos} (the window's ticker) and not forced. */
    void written(long lastId, long nanos) {
        writes.addLast(new long[] {lastId, nanos});
    }

    /** When the oldest write not forced must be forced, unless acknowledged by then; far off when there is none. */
    long due(long windowNanos) {
        long[] oldest = writes.peekFirst();
        return oldest == null ? Long.MAX_VALUE : oldest[1] + windowNanos;
    }

    /**
     * Whether a write must be forced now: the oldest has waited the window ({@code now}: whatever
     * the window) and a reading of it still waits for the broker. The writes before it that the
     * broker acknowledged whole need no fsync, and are let go.
     */
    boolean mustForce(Ledger ledger, boolean now, long nanos, long windowNanos) {
        while (true) {
            long[] oldest = writes.peekFirst();
            if (oldest == null || (!now && nanos - due(windowNanos) < 0)) return false;
            if (ledger.anyWaiting(syncedId, oldest[0])) return true;
            syncedId = Math.max(syncedId, oldest[0]); // delivered: nothing to keep
            writes.pollFirst();
        }
    }

    /** Everything up to {@code id} is on the card. */
    void forced(long id) {
        syncedId = Math.max(syncedId, id);
        while (!writes.isEmpty() && writes.peekFirst()[0] <= id) writes.pollFirst();
    }
}
