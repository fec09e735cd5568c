package dev.meerkat.agent.bridge;

import dev.meerkat.agent.mqtt.MqttTransport;
import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.config.Json;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
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
    private static final Duration MIN_BACKOFF = Duration.ofMillis(250);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final MqttTransport transport;
    private final String statusTopic;
    private final boolean retainStatus;
    private final String agentVersion;
    private final Clock clock;
    private Duration backoff = MIN_BACKOFF;
    private long connects;

    MqttLink(MqttTransport transport, String statusTopic, boolean retainStatus, String agentVersion, Clock clock) {
        this.transport = transport;
        this.statusTopic = statusTopic;
        this.retainStatus = retainStatus;
        this.agentVersion = agentVersion;
        this.clock = clock;
    }

    /** Connects if needed; false (after its backoff sleep) when the broker is not there yet. */
    boolean ensureConnected() throws InterruptedException {
        if (transport.isConnected()) return true;
        try {
            byte[] will = Json.write(Map.of("state", "offline"));
            transport.connect(new MqttTransport.Will(statusTopic, will, 1, retainStatus), CONNECT_TIMEOUT);
            Map<String, Object> online = new LinkedHashMap<>();
            online.put("state", "online");
            online.put("agentVersion", agentVersion);
            online.put("since", clock.instant().toString());
            transport.publish(statusTopic, Json.write(online), 1, retainStatus, ACK_TIMEOUT);
            connects++;
            log.info("mqtt connected status={} connects={}", statusTopic, connects);
            backoff = MIN_BACKOFF;
            return true;
        } catch (MqttTransportException e) {
            long jittered = backoff.toMillis() / 2 + ThreadLocalRandom.current().nextLong(backoff.toMillis() / 2 + 1);
            log.warn("mqtt not connected, retrying in {}ms: {}", jittered, e.getMessage());
            Thread.sleep(jittered);
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            return false;
        }
    }

    boolean isConnected() {
        return transport.isConnected();
    }

    void publish(String topic, byte[] payload, int qos) throws MqttTransportException {
        transport.publish(topic, payload, qos, false, ACK_TIMEOUT);
    }

    /** A clean stop: offline published by us (the will only fires on an unclean end), then disconnect. */
    void goOffline() {
        if (transport.isConnected()) {
            try {
                transport.publish(statusTopic, Json.write(Map.of("state", "offline")), 1, retainStatus, Duration.ofSeconds(2));
            } catch (MqttTransportException e) {
                log.warn("could not publish offline status: {}", e.getMessage());
            }
        }
        transport.close();
    }
}
