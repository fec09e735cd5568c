package dev.meerkat.agent.journal;

/** A sensor's unacknowledged ids, its newest id (acknowledged or not), and its last seq handed out or appended. */
final class SensorIds {
    final IdQueue waiting = new IdQueue();
    long newest;
    long lastSeq;

    /** A seq of this sensor's was appended or recovered: the next one handed out is past it. */
    void seen(long seq) {
        if (seq > lastSeq) lastSeq = seq;
    }

    /** Every reading of the sensor at or below it is acknowledged. */
    long mark() {
        return waiting.isEmpty() ? newest : waiting.first() - 1;
    }
}
