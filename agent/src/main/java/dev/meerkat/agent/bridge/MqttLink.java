package dev.meerkat.agent.bridge;

import dev.meerkat.agent.mqtt.MqttTransport;
import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.config.Json;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The supervised connection to the broker, and the device's retained status topic (SPEC §8): each
 * connect carries the last will {@code {"state":"offline"}} and then publishes
 * {@code {"state":"online",...}}; a clean stop publishes offline itself. Reconnects back off
 * exponentially with jitter. Used from the outbox's sender thread only.
 */
final class MqttLink {
    private static final Logger log = LoggerFactory.getLogger(MqttLink.class);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration ACK_TIMEOUT = Duration.ofSeconds(10);

    /** Where the device's status goes; changes with the config's topic prefix. */
    record Target(String statusTopic, boolean retainStatus) {}

    private final MqttTransport transport;
    private Target target;
    private final java.util.concurrent.atomic.AtomicReference<Target> wanted = new java.util.concurrent.atomic.AtomicReference<>();
    private final Runnable onConnectionChange;
    private final String agentVersion;
    private final Clock clock;
    private final ReconnectBackoff backoff = new ReconnectBackoff();
    private String since;
    private volatile Map<String, Object> delivery;
    private long connects;

    MqttLink(MqttTransport transport, Target target, String agentVersion, Clock clock, Runnable onConnectionChange) {
        this.transport = transport;
        this.target = target;
        this.onConnectionChange = onConnectionChange;
        this.agentVersion = agentVersion;
        this.clock = clock;
    }

    /** A new status topic: takes effect on the sender thread, which says offline on the old one first. */
    void retarget(Target next) {
        wanted.set(next);
    }

    /** Connected, with the status topic the config asks for. */
    boolean settled() {
        Target w = wanted.get();
        return transport.isConnected() && (w == null || w.equals(target));
    }

    /** Connects if needed; false (after its backoff sleep) when the broker is not there yet. */
    boolean ensureConnected() throws InterruptedException {
        Target w = wanted.getAndSet(null);
        if (w != null && !w.equals(target)) {
            if (transport.isConnected()) {
                // The will is fixed at connect time: say offline on the old topic, then connect again.
                publishOffline(Duration.ofSeconds(2));
                transport.disconnect(Duration.ofSeconds(2));
            }
            log.info("mqtt status topic {} -> {}", target.statusTopic(), w.statusTopic());
            target = w;
        }
        if (transport.isConnected()) return true;
        try {
            byte[] will = Json.write(Map.of("state", "offline"));
            transport.connect(new MqttTransport.Will(target.statusTopic(), will, 1, target.retainStatus()), CONNECT_TIMEOUT);
            since = clock.instant().toString();
            transport.publish(target.statusTopic(), Json.write(online()), 1, target.retainStatus(), ACK_TIMEOUT);
            connects++;
            log.info("mqtt connected status={} connects={}", target.statusTopic(), connects);
            backoff.reset();
            onConnectionChange.run();
            return true;
        } catch (MqttTransportException e) {
            long delay = backoff.nextMillis();
            log.warn("mqtt not connected, retrying in {}ms: {}", delay, e.getMessage());
            Thread.sleep(delay);
            return false;
        }
    }

    boolean isConnected() {
        return transport.isConnected();
    }

    /** The online status message, with the delivery accounting when there is one. */
    private Map<String, Object> online() {
        Map<String, Object> online = new LinkedHashMap<>();
        online.put("state", "online");
        online.put("agentVersion", agentVersion);
        online.put("since", since);
        Map<String, Object> d = delivery;
        if (d != null) online.put("delivery", d);
        Boolean zk = zooKeeper;
        if (zk != null) online.put("zookeeper", Map.of("connected", zk));
        return online;
    }

    /** Whether ZooKeeper is connected, for the status topic: an outage of it is reported there too. */
    private volatile Boolean zooKeeper;

    void zooKeeper(boolean connected) {
        zooKeeper = connected;
    }

    /** New delivery accounting for the status topic: published again now (sender thread), and with every connect. */
    void delivery(Map<String, Object> accounting) throws MqttTransportException {
        if (!accounting.isEmpty()) delivery = accounting; // empty: the same accounting, published again
        if (transport.isConnected()) transport.publish(target.statusTopic(), Json.write(online()), 1, target.retainStatus(), ACK_TIMEOUT);
    }

    /** Connections made so far: a change tells the sender the connection is a new one. */
    long connects() {
        return connects;
    }

    /** Gives up on the connection (a publish failed or went unacknowledged); the next call reconnects. */
    void drop() {
        transport.disconnect(Duration.ofMillis(500));
        onConnectionChange.run();
    }

    void publish(String topic, byte[] payload, int qos) throws MqttTransportException {
        transport.publish(topic, payload, qos, false, ACK_TIMEOUT);
    }

    /** A clean stop: offline published by us (the will only fires on an unclean end), then disconnect. */
    void goOffline() {
        if (transport.isConnected()) publishOffline(Duration.ofSeconds(2));
        transport.close();
    }

    private void publishOffline(Duration timeout) {
        try {
            transport.publish(target.statusTopic(), Json.write(Map.of("state", "offline")), 1, target.retainStatus(), timeout);
        } catch (MqttTransportException e) {
            log.warn("could not publish offline status: {}", e.getMessage());
        }
    }
}
