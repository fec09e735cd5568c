package dev.meerkat.bench;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * Raw Paho, the baseline for the MQTT bridge: QoS 1 publishes of reading-sized payloads, without
 * persistence; throughput with a window of in-flight messages, and the latency of one publish to
 * its PUBACK when they go one at a time.
 */
final class PahoBaseline {
    private final String uri;

    PahoBaseline(String uri) {
        this.uri = uri;
    }

    static byte[] reading(long seq) {
        return ("{\"device\":\"gw-0042\",\"sensor\":\"s1\",\"seq\":" + seq + ",\"ts\":\"2026-11-21T15:00:05.012Z\","
                + "\"values\":{\"temperature\":21.37,\"humidity\":40.1,\"pressure\":1013.2},"
                + "\"units\":{\"temperature\":\"Cel\",\"humidity\":\"%RH\",\"pressure\":\"hPa\"}}").getBytes(StandardCharsets.UTF_8);
    }

    private MqttAsyncClient connect(int inflight) throws Exception {
        MqttAsyncClient c = new MqttAsyncClient(uri, "bench-" + System.nanoTime(), new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setMaxInflight(inflight);
        c.connect(o).waitForCompletion(10_000);
        return c;
    }

    Map<String, Object> throughput(int messages, int window) throws Exception {
        MqttAsyncClient c = connect(window);
        try {
            Semaphore slots = new Semaphore(window);
            CountDownLatch acked = new CountDownLatch(messages);
            IMqttActionListener done = new IMqttActionListener() {
                @Override
                public void onSuccess(IMqttToken t) {
                    slots.release();
                    acked.countDown();
                }

                @Override
                public void onFailure(IMqttToken t, Throwable e) {
                    slots.release();
                    throw new IllegalStateException(e);
                }
            };
            Map<String, Long> cpu = ThreadCpu.snapshot();
            long t0 = System.nanoTime();
            for (int i = 0; i < messages; i++) {
                slots.acquire();
                c.publish("bench/gw-0042/sensors/s1", reading(i), 1, false, null, done);
            }
            if (!acked.await(120, TimeUnit.SECONDS)) throw new IllegalStateException(acked.getCount() + " not acknowledged");
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("messages", messages);
            m.put("window", window);
            m.put("msgs_per_s", Math.round(messages / seconds));
            m.put("cpu_us_per_msg", ThreadCpu.perMessage(cpu, ThreadCpu.snapshot(), messages));
            return m;
        } finally {
            c.disconnect().waitForCompletion(5000);
            c.close();
        }
    }

    Map<String, Object> latency(int messages) throws Exception {
        MqttAsyncClient c = connect(10);
        try {
            Stats s = new Stats();
            int refused = 0;
            for (int i = 0; i < messages; i++) {
                long t = System.nanoTime();
                while (true) {
                    try {
                        c.publish("bench/gw-0042/sensors/s1", reading(i), 1, false).waitForCompletion(10_000);
                        break;
                    } catch (org.eclipse.paho.client.mqttv3.MqttException e) {
                        // Paho completes a token before it frees its in-flight slot; on a loaded machine a
                        // publish that follows at once can find the slots still taken. Try again (timed).
                        if (e.getReasonCode() != org.eclipse.paho.client.mqttv3.MqttException.REASON_CODE_MAX_INFLIGHT || ++refused > 10_000) throw e;
                        Thread.sleep(0, 100_000);
                    }
                }
                s.add(System.nanoTime() - t);
            }
            Map<String, Object> m = s.summary();
            m.put("refused_in_flight_full", refused);
            return m;
        } finally {
            c.disconnect().waitForCompletion(5000);
            c.close();
        }
    }
}
