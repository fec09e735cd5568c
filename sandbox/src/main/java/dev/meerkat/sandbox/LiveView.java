package dev.meerkat.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.agent.Agent;
import dev.meerkat.config.Json;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * One line per gateway, refreshed every second: registered (its member znode, owned by its
 * session), MQTT connected, readings per second and the last value as the broker delivered them to
 * a subscriber of the fleet's topics. On a terminal the lines are redrawn in place.
 */
final class LiveView implements AutoCloseable {
    private final MqttClient subscriber;
    private final Map<String, AtomicLong> received = new ConcurrentHashMap<>();
    private final Map<String, String> lastValue = new ConcurrentHashMap<>();

    LiveView(String uri, String fleet) throws MqttException {
        subscriber = new MqttClient(uri, "meerkat-sandbox-view", new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        subscriber.connect(o);
        subscriber.subscribe("meerkat/" + fleet + "/+/sensors/+", 0, (topic, msg) -> {
            JsonNode r = Json.mapper().readTree(msg.getPayload());
            String device = r.path("device").asText();
            received.computeIfAbsent(device, d -> new AtomicLong()).incrementAndGet();
            StringBuilder sb = new StringBuilder(r.path("sensor").asText()).append(" #").append(r.path("seq").asLong());
            r.path("values").properties().forEach(e -> sb.append(' ').append(e.getKey()).append('=')
                    .append(e.getValue().asText()).append(' ').append(r.path("units").path(e.getKey()).asText("")));
            lastValue.put(device, sb.toString());
        });
    }

    void run(List<Agent> agents, PrintStream out, CountDownLatch stop, Duration runFor) throws InterruptedException {
        boolean tty = System.console() != null;
        long end = runFor == null ? Long.MAX_VALUE : System.nanoTime() + runFor.toNanos();
        Map<String, Long> before = new ConcurrentHashMap<>();
        int drawn = 0;
        long tick = 0;
        while (!stop.await(1, TimeUnit.SECONDS)) {
            tick++;
            boolean last = System.nanoTime() >= end;
            if (tty || tick % 5 == 0 || last) {
                if (tty && drawn > 0) out.print("\033[" + drawn + "A");
                out.printf("%-8s %-11s %-5s %-10s %s%n", "gateway", "registered", "mqtt", "readings/s", "last reading");
                for (Agent a : agents) {
                    String id = a.deviceId();
                    long now = received.getOrDefault(id, new AtomicLong()).get();
                    long was = before.getOrDefault(id, 0L);
                    before.put(id, now);
                    double rate = (now - was) / (double) (tty ? 1 : 5);
                    out.printf("%-8s %-11s %-5s %-10.1f %s\033[K%n".replace("\033[K", tty ? "\033[K" : ""), id,
                            a.registered() ? "yes" : "NO", a.mqttConnected() ? "yes" : "NO", rate,
                            lastValue.getOrDefault(id, "-"));
                }
                drawn = agents.size() + 1;
                out.flush();
            }
            if (last) return;
        }
    }

    @Override
    public void close() {
        try {
            subscriber.disconnect(1000);
            subscriber.close();
        } catch (MqttException e) {
            // the broker is going away too
        }
    }
}
