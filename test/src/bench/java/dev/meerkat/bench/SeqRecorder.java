package dev.meerkat.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * The fleet's consumer: a durable subscriber (a persistent session on the broker, which keeps it
 * across a broker restart, and automatic reconnects) that writes down every reading's
 * {@code device/sensor} and {@code seq}, counts duplicates, and times each reading from its
 * {@code ts} to its arrival here. What it keeps per stream is a bit set, so a long run stays small.
 */
final class SeqRecorder implements AutoCloseable {
    private final MqttClient client;
    private final Map<String, BitSet> seen = new ConcurrentHashMap<>();
    final AtomicLong received = new AtomicLong(), duplicates = new AtomicLong(), unreadable = new AtomicLong();
    /** Sample ({@code ts}, millisecond resolution) to arrival here, while {@link #timing} is on. */
    final Stats latency = new Stats();
    volatile boolean timing;

    SeqRecorder(String uri, String topicFilter) throws Exception {
        client = new MqttClient(uri, "fleet-recorder-" + System.nanoTime(), new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        o.setAutomaticReconnect(true);
        o.setMaxReconnectDelay(500);
        o.setMaxInflight(65535);
        o.setKeepAliveInterval(10);
        client.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {}

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                record(topic, m);
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {}
        });
        client.connect(o);
        client.subscribe(topicFilter, 1);
    }

    private void record(String topic, MqttMessage m) {
        long now = System.currentTimeMillis();
        try {
            JsonNode r = Json.mapper().readTree(m.getPayload());
            for (JsonNode one : r.isArray() ? r : List.of(r)) {
                String key = one.get("device").asText() + "/" + one.get("sensor").asText();
                int seq = (int) one.get("seq").asLong();
                BitSet b = seen.computeIfAbsent(key, k -> new BitSet());
                synchronized (b) {
                    if (b.get(seq)) duplicates.incrementAndGet();
                    else b.set(seq);
                }
                received.incrementAndGet();
                if (timing) latency.add((now - Instant.parse(one.get("ts").asText()).toEpochMilli()) * 1_000_000L);
            }
        } catch (Exception e) {
            unreadable.incrementAndGet();
        }
    }

    /** Distinct seqs of {@code device/sensor} received so far. */
    int distinct(String stream) {
        BitSet b = seen.get(stream);
        if (b == null) return 0;
        synchronized (b) {
            return b.cardinality();
        }
    }

    /**
     * What is missing of {@code device/sensor} given that it sent {@code count} readings numbered
     * from {@code first}: the missing seqs (at most ten shown), or an empty list.
     */
    List<Integer> missing(String stream, long first, long count) {
        List<Integer> gaps = new ArrayList<>();
        BitSet b = seen.getOrDefault(stream, new BitSet());
        synchronized (b) {
            for (long s = first; s < first + count && gaps.size() < 10; s++) if (!b.get((int) s)) gaps.add((int) s);
        }
        return gaps;
    }

    @Override
    public void close() {
        try {
            client.disconnect(1000);
        } catch (Exception e) {
            // the broker may be gone
        }
        try {
            client.close(true);
        } catch (Exception e) {
            // closed
        }
    }
}
