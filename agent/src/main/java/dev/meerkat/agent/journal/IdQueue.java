package dev.meerkat.agent.journal;

/**
 * Journal ids, ascending (one sensor's unacknowledged readings, or those in flight): a growable
 * ring of ints relative to a base id, 4 bytes an id. Not thread-safe.
 */
public final class IdQueue {
    private long base;
    private int[] ring = new int[16];
    private int head, size;

    public boolean isEmpty() {
        return size == 0;
    }

    public int size() {
        return size;
    }

    public long first() {
        return base + ring[head];
    }

    public long last() {
        return base + ring[(head + size - 1) % ring.length];
    }

    /** Adds an id greater than every id in the queue. */
    public void add(long id) {
        if (size == 0) {
            base = id;
            head = 0;
        } else if (id <= last()) {
            throw new IllegalArgumentException("id " + id + " not above " + last());
        }
        if (id - base > Integer.MAX_VALUE) rebase(id);
        if (size == ring.length) grow();
        ring[(head + size) % ring.length] = (int) (id - base);
        size++;
    }

    /** Removes the ids at or below {@code upTo}; returns how many. */
    public int removeUpTo(long upTo) {
        int n = 0;
        while (size > 0 && first() <= upTo) {
            head = (head + 1) % ring.length;
            size--;
            n++;
        }
        if (size == 0) head = 0;
        return n;
    }

    /** Whether an id in ({@code after}, {@code upTo}] is in the queue; looks from the newest, where such ids are. */
    public boolean anyIn(long after, long upTo) {
        for (int i = size - 1; i >= 0; i--) {
            long at = base + ring[(head + i) % ring.length];
            if (at <= after) return false;
            if (at <= upTo) return true;
        }
        return false;
    }

    /** Removes {@code id} wherever it is (a batch lost to a write error); true if it was there. */
    public boolean remove(long id) {
        for (int i = size - 1; i >= 0; i--) {
            long at = base + ring[(head + i) % ring.length];
            if (at < id) return false;
            if (at == id) {
                for (int k = i; k < size - 1; k++) ring[(head + k) % ring.length] = ring[(head + k + 1) % ring.length];
                size--;
                return true;
            }
        }
        return false;
    }

    private void grow() {
        int[] bigger = new int[ring.length * 2];
        for (int i = 0; i < size; i++) bigger[i] = ring[(head + i) % ring.length];
        ring = bigger;
        head = 0;
    }

    /** Makes the oldest id the base, so the offsets stay small as ids grow. */
    private void rebase(long next) {
        long first = first();
        if (next - first > Integer.MAX_VALUE) throw new IllegalStateException("ids waiting span more than 2^31");
        int shift = ring[head];
        for (int i = 0; i < size; i++) ring[(head + i) % ring.length] -= shift;
        base = first;
    }
}
