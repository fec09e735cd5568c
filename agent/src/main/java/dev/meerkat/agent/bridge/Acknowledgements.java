package dev.meerkat.agent.bridge;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The readings the broker acknowledged (in Sparkplug B, at QoS 0: written to the connection) since
 * the agent started, in all and per sensor. Counted by the thread that takes the broker's answers;
 * read by any (the status, the metrics) without a lock of the bridge's, so that a reader never
 * waits on a sender blocked in the MQTT client.
 */
public final class Acknowledgements {
    private final AtomicLong total = new AtomicLong();
    private final Map<String, AtomicLong> bySensor = new ConcurrentHashMap<>();

    public void add(String sensor, int n) {
        if (n == 0) return;
        bySensor.computeIfAbsent(sensor, k -> new AtomicLong()).addAndGet(n);
        total.addAndGet(n);
    }

    public long total() {
        return total.get();
    }

    /** Each sensor's count, by name; a sensor is there once one of its readings was acknowledged. */
    public Map<String, Long> bySensor() {
        Map<String, Long> m = new TreeMap<>();
        bySensor.forEach((sensor, n) -> m.put(sensor, n.get()));
        return m;
    }
}
