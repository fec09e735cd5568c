package dev.meerkat.agent.bridge;

import java.time.Duration;
import java.util.Map;

/**
 * How readings leave the gateway for the broker, in the format {@code publish.format} names (SPEC
 * §12): Meerkat's JSON ({@link Outbox}) or Sparkplug B. Every reading goes into the journal first
 * ({@link #offer}); the bridge's own thread takes it from there. The agent holds one bridge at a
 * time, and makes a new one when the format changes.
 */
public interface Bridge extends AutoCloseable {
    void start();

    /** Puts a reading in the journal; never waits for the disk or the broker. */
    void offer(Reading r, String topic, int qos);

    /**
     * The device's status topic moved (a new topic prefix). The status topic is the JSON format's:
     * Sparkplug's presence is NBIRTH/NDEATH, so it, and the two below, are nothing to a format without one.
     */
    default void retarget(String statusTopic, boolean retainStatus) {}

    /** The delivery accounting for the status topic (an empty one: publish the last again). */
    default void announce(Map<String, Object> delivery) {}

    /** ZooKeeper's connection changed (the status topic says so). */
    default void zooKeeper(boolean connected) {}

    boolean connected();

    /** Readings not yet acknowledged (or, in a format without acknowledgements, not yet sent). */
    long depth();

    long sent();

    Acknowledgements acknowledged();

    /** Waits until everything offered so far has left the journal, or the time is up; true when all has. */
    boolean flush(Duration timeout) throws InterruptedException;

    /** The bridge's thread went round within {@code stale}: it is not wedged. */
    boolean loopAlive(Duration stale);

    /** {@code publish.batch}, live; nothing to a format whose messages carry one reading each (Sparkplug's DDATA). */
    default void batching(int maxMessages, Duration maxDelay) {}

    /** The {@code publish.format} it speaks. */
    default String format() {
        return "json";
    }

    /** What {@code meerkat status} shows of the format's own state, under {@code publish}: nothing for JSON. */
    default Map<String, Object> formatState() {
        return Map.of();
    }

    /** Stops sending and disconnects. Call {@link #flush} first to drain. */
    @Override
    void close();
}
