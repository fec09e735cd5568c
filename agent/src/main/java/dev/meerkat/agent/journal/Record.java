package dev.meerkat.agent.journal;

/**
 * One reading in the journal: its journal id (one greater than the record before it, across the
 * whole journal), the sensor and its {@code seq}, the sample time, and what goes to the broker.
 */
public record Record(long id, String sensor, long seq, long tsMillis, String topic, int qos, byte[] payload) {}
