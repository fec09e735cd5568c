package dev.meerkat.agent.bridge;

import dev.meerkat.agent.journal.IdQueue;

/**
 * One sensor's way to the broker: its readings go in id (and so seq) order; every one at or
 * below {@code after} is in flight or acknowledged. Guarded by the monitor; only the sender
 * thread changes {@code after} and the lanes.
 */
final class Lane {
    final String sensor;
    long after;
    long waitingIn; // the last round in which the journal had readings of it waiting
    /** Sent and not all answered, in send order; the answered ones among them (out of order) in {@code early}. */
    private final IdQueue sent = new IdQueue();
    private final java.util.Set<Long> early = new java.util.HashSet<>();
    /** When each round's readings were sent: {last id of the round, nanoTime}. */
    private final java.util.ArrayDeque<long[]> rounds = new java.util.ArrayDeque<>();

    Lane(String sensor) {
        this.sensor = sensor;
    }

    void sending(long id, long nanos) {
        sent.add(id);
        long[] last = rounds.peekLast();
        if (last != null && last[1] == nanos) last[0] = id;
        else rounds.addLast(new long[] {id, nanos});
    }

    boolean idle() {
        return sent.isEmpty();
    }

    /** An answer for {@code id}: 1 if it was in flight (0 for one already answered); moves the oldest on. */
    int answered(long id) {
        if (sent.isEmpty() || id < sent.first()) return 0;
        if (id != sent.first()) return early.add(id) ? 1 : 0;
        sent.removeUpTo(id);
        while (!sent.isEmpty() && early.remove(sent.first())) sent.removeUpTo(sent.first());
        if (sent.isEmpty()) rounds.clear();
        return 1;
    }

    /** Every reading of the sensor at or below it is acknowledged. */
    long mark() {
        return sent.isEmpty() ? after : sent.first() - 1;
    }

    /** When the oldest reading still in flight was sent, or -1. */
    long oldestSentAt() {
        if (sent.isEmpty()) return -1;
        while (rounds.size() > 1 && rounds.peekFirst()[0] < sent.first()) rounds.pollFirst();
        return rounds.peekFirst()[1];
    }
}
