package dev.meerkat.agent.journal;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The journal's accounting, by sensor: the readings waiting for their acknowledgement, each
 * sensor's newest id and last seq, the acknowledged watermark, what was dropped and why, and the
 * damage already counted. Guarded by the journal's lock; {@link #version} changes with every
 * mark or count the acked file saves.
 */
final class Ledger {
    final TreeMap<String, SensorIds> sensors = new TreeMap<>();
    /** Readings waiting for their acknowledgement, all sensors. */
    long unacked;
    /** One below the oldest reading waiting, of any sensor. */
    long ackedId;
    final Map<String, Map<String, Long>> dropped = new TreeMap<>();
    long lastDroppedAt;
    /** Damage already counted as lost readings, by segment file name and offset: not counted again at the next start. */
    final Map<String, Set<Long>> countedDamage = new TreeMap<>();
    /** Bumped by every change the acked file keeps. */
    long version;

    SensorIds ids(String sensor) {
        return sensors.computeIfAbsent(sensor, k -> new SensorIds());
    }

    /** Reading {@code id} of {@code sensor}, numbered {@code seq}, was appended: it waits for its acknowledgement. */
    void appended(String sensor, long seq, long id) {
        SensorIds ids = ids(sensor);
        ids.seen(seq);
        ids.waiting.add(id);
        ids.newest = id;
        ids.enqueued++;
        unacked++;
    }

    /** A reading of {@code sensor} numbered {@code seq} was dropped as it came (the journal full): enqueued, and gone. */
    void droppedNewest(String sensor, long seq) {
        SensorIds ids = ids(sensor);
        ids.seen(seq);
        ids.enqueued++;
    }

    /** At the start: what each sensor has waiting is this run's to send, so counted as enqueued by it. */
    void startRun() {
        sensors.values().forEach(ids -> ids.enqueued = ids.waiting.size());
    }

    /** Each sensor's readings enqueued by this run. */
    Map<String, Long> enqueued() {
        Map<String, Long> m = new TreeMap<>();
        sensors.forEach((sensor, ids) -> m.put(sensor, ids.enqueued));
        return m;
    }

    /** Every reading of {@code sensor} at or below {@code upToId} is acknowledged; returns how many were waiting. */
    int acknowledged(String sensor, long upToId, long committedId) {
        SensorIds ids = sensors.get(sensor);
        int n = ids == null ? 0 : ids.waiting.removeUpTo(upToId);
        if (n == 0) return 0;
        unacked -= n;
        version++;
        recomputeAcked(committedId);
        return n;
    }

    /** Every sensor with readings waiting, by name. */
    List<Journal.Waiting> waiting() {
        List<Journal.Waiting> out = new java.util.ArrayList<>();
        sensors.forEach((sensor, ids) -> {
            if (!ids.waiting.isEmpty()) out.add(new Journal.Waiting(sensor, ids.waiting.first(), ids.waiting.last()));
        });
        return out;
    }

    /** Whether any reading with an id in ({@code after}, {@code upTo}] still waits for its acknowledgement. */
    boolean anyWaiting(long after, long upTo) {
        for (SensorIds ids : sensors.values()) if (ids.waiting.anyIn(after, upTo)) return true;
        return false;
    }

    /** Takes readings that never reached the disk out of the waiting ones. */
    void forget(List<Record> lost) {
        for (Record r : lost) {
            SensorIds ids = sensors.get(r.sensor());
            if (ids != null && ids.waiting.remove(r.id())) unacked--;
        }
    }

    /** The watermark: one below the oldest waiting reading, or everything committed when none waits. */
    void recomputeAcked(long committedId) {
        long mark = committedId;
        for (SensorIds ids : sensors.values()) if (!ids.waiting.isEmpty()) mark = Math.min(mark, ids.waiting.first() - 1);
        if (mark > ackedId) {
            ackedId = mark;
            version++;
        }
    }

    /** Each sensor's acknowledged mark above the watermark: all its readings at or below it are acknowledged. */
    Map<String, Long> sensorMarks() {
        Map<String, Long> marks = new TreeMap<>();
        sensors.forEach((sensor, ids) -> {
            if (ids.mark() > ackedId) marks.put(sensor, ids.mark());
        });
        return marks;
    }

    /** Counts {@code n} readings of {@code sensor} dropped for {@code reason} at {@code nowMillis}. */
    void drop(String sensor, String reason, long n, long nowMillis) {
        dropped.computeIfAbsent(sensor, k -> new TreeMap<>()).merge(reason, n, Long::sum);
        lastDroppedAt = nowMillis;
        version++;
    }

    /** What the acked file saves. */
    AckedMarks marks() {
        return new AckedMarks(ackedId, sensorMarks(), dropped, lastDroppedAt, countedDamage);
    }
}
