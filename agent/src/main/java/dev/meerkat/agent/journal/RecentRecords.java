package dev.meerkat.agent.journal;

import java.util.ArrayList;
import java.util.List;

/**
 * The newest committed readings, a gapless run of ids, at most {@link #CAPACITY}: a sender that
 * keeps up reads them here instead of from the segment files. A reading sits in slot
 * {@code id & MASK}, so finding where a read starts costs nothing however many are held. Not
 * thread-safe: the journal guards it with its lock.
 */
final class RecentRecords {
    static final int CAPACITY = 4096; // a power of two
    private static final int MASK = CAPACITY - 1;
    private final Record[] slots = new Record[CAPACITY];
    private long last = -1; // the newest id held
    private int size;

    boolean isEmpty() {
        return size == 0;
    }

    /** The oldest id held; only when not empty. */
    long firstId() {
        return last - size + 1;
    }

    /** The newest id held; only when not empty. */
    long lastId() {
        return last;
    }

    /** Appends a committed batch, in id order; one that does not follow on starts the run again. */
    void addAll(List<Record> batch) {
        if (batch.isEmpty()) return;
        if (size > 0 && batch.get(0).id() != last + 1) clear();
        for (Record r : batch) {
            if (size > 0 && r.id() != last + 1) clear(); // gapless within the batch too
            slots[(int) (r.id() & MASK)] = r;
            last = r.id();
            if (size < CAPACITY) size++;
        }
    }

    /** Forgets the readings at or below {@code id}. */
    void dropUpTo(long id) {
        while (size > 0 && firstId() <= id) {
            slots[(int) (firstId() & MASK)] = null;
            size--;
        }
    }

    void clear() {
        java.util.Arrays.fill(slots, null);
        size = 0;
    }

    /** Whether every committed reading above {@code afterId} up to {@code committedId} is held. */
    boolean covers(long afterId, long committedId) {
        return size > 0 && firstId() <= afterId + 1 && last == committedId;
    }

    /** Up to {@code max} held readings above {@code afterId}, of {@code sensor} only unless it is null, in id order. */
    List<Record> after(long afterId, String sensor, int max) {
        List<Record> out = new ArrayList<>(Math.min(max, size));
        for (long id = Math.max(afterId + 1, firstId()); id <= last && out.size() < max; id++) {
            Record r = slots[(int) (id & MASK)];
            if (sensor == null || sensor.equals(r.sensor())) out.add(r);
        }
        return out;
    }
}
