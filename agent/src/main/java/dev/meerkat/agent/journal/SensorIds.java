package dev.meerkat.agent.journal;

/**
 * A sensor's unacknowledged ids, its newest id (acknowledged or not), its last seq handed out or
 * appended, and its readings enqueued by this run (those found waiting at the start included).
 */
final class SensorIds {
    final IdQueue waiting = new IdQueue();
    long newest;
    long lastSeq;
    long enqueued;

    /** A seq of this sensor's was appended or recovered: the next one handed out is past it. */
    void seen(long seq) {
        if (seq > lastSeq) lastSeq = seq;
    }

    /** Every reading of the sensor at or below it is acknowledged. */
    long mark() {
        return waiting.isEmpty() ? newest : waiting.first() - 1;
    }
}
