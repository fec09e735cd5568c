package dev.meerkat.agent.homeassistant;

import dev.meerkat.agent.journal.CheckedFile;
import dev.meerkat.agent.mqtt.MqttTransport;
import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.config.AgentSettings;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.config.Json;
import dev.meerkat.drivers.Drivers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the gateway's Home Assistant discovery document ({@link Discovery}) while
 * {@code publish.homeAssistant.discovery} is on: retained, at QoS 1, on each new MQTT connection,
 * when the document changes (a sensor added, changed or removed, a new topic prefix), and again
 * when Home Assistant says it is back ({@code PREFIX/status} {@code online}), as its documentation
 * asks. Turned off, it removes the device (an empty retained document) once; it publishes nothing
 * otherwise. Where the document is and the components it ever published are kept in
 * {@code storage.dir/homeassistant.json}, so that a sensor removed, or discovery turned off, while
 * the agent was stopped still reaches Home Assistant.
 *
 * <p>Its work runs on one platform thread of its own (the MQTT client blocks inside synchronized
 * code), there only while there is work; nothing waits on it, and the readings' sender does not
 * wait on it either.
 */
public final class HomeAssistantDiscovery implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HomeAssistantDiscovery.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final MqttTransport transport;
    private final String fleet, device, agentVersion;
    private final Drivers drivers;
    private final Path file;
    /** One thread at most, started for a task and gone after a minute without one: an agent without discovery keeps none. */
    private final ThreadPoolExecutor thread = new ThreadPoolExecutor(0, 1, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(),
            r -> Thread.ofPlatform().name("meerkat-homeassistant").daemon(true).unstarted(r));
    private volatile EffectiveConfig config;
    private volatile String topicPrefix;
    // On the thread:
    private final Map<String, String> known = new TreeMap<>(); // every component published: id -> platform
    /** Where the document is at the broker (this run's, or one an earlier run left there); null: nowhere. */
    private String publishedTopic;
    private byte[] publishedDoc;
    private String subscribed; // the status topic subscribed to on this connection

    /** {@code topicPrefix} gives the device's topic prefix ({@code P/F/D}) for a config. */
    public HomeAssistantDiscovery(MqttTransport transport, String fleet, String device, String agentVersion, Drivers drivers, Path storageDir) {
        this.transport = transport;
        this.fleet = fleet;
        this.device = device;
        this.agentVersion = agentVersion;
        this.drivers = drivers;
        this.file = storageDir.resolve("homeassistant.json");
        run(this::load);
    }

    /** The config applied now (any change of it may change the document). */
    public void update(EffectiveConfig config, String topicPrefix) {
        this.topicPrefix = topicPrefix;
        this.config = config;
        run(this::sync);
    }

    /** The MQTT connection changed: on a new one, subscribe again and publish again (Home Assistant may have missed it). */
    public void connectionChanged() {
        run(() -> {
            subscribed = null;
            publishedDoc = null;
            sync();
        });
    }

    private void homeAssistantStatus(String topic, byte[] payload) {
        if (!new String(payload, StandardCharsets.UTF_8).trim().equals("online")) return;
        run(() -> {
            EffectiveConfig c = config;
            if (c == null || !c.agent().publish().homeAssistant().discovery()) return; // off: the subscription stays until the next connection
            log.info("home assistant is online ({}): publishing the discovery document again", topic);
            publishedDoc = null;
            sync();
        });
    }

    private void sync() {
        EffectiveConfig c = config;
        if (c == null || !transport.isConnected()) return;
        AgentSettings.HomeAssistant ha = c.agent().publish().homeAssistant();
        String topic = Discovery.topic(ha.prefix(), fleet, device);
        try {
            if (publishedTopic != null && (!ha.discovery() || !publishedTopic.equals(topic))) {
                // Off, or moved to another prefix: the device goes from where it was.
                transport.publish(publishedTopic, new byte[0], 1, true, TIMEOUT);
                log.info("home assistant discovery removed from {}", publishedTopic);
                publishedTopic = null;
                publishedDoc = null;
                known.clear();
                save();
            }
            if (!ha.discovery()) return;
            String status = ha.prefix() + "/status";
            if (!status.equals(subscribed)) {
                transport.subscribe(status, 1, this::homeAssistantStatus, TIMEOUT);
                subscribed = status;
            }
            Map<String, Discovery.Sensor> sensors = sensors(c);
            Map<String, String> components = Discovery.components(sensors), removed = new TreeMap<>(known);
            components.keySet().forEach(removed::remove);
            byte[] bytes = Json.write(Discovery.document(fleet, device, topicPrefix, agentVersion, sensors, removed));
            if (publishedDoc != null && Arrays.equals(bytes, publishedDoc) && topic.equals(publishedTopic)) return;
            // Saved before the publish: killed between the two, the file names a document the broker may
            // not have (removing it later is harmless); the other order could leave one there for good.
            boolean moved = !topic.equals(publishedTopic);
            publishedTopic = topic;
            int before = known.size();
            known.putAll(components);
            if (known.size() != before || moved) save();
            transport.publish(topic, bytes, 1, true, TIMEOUT);
            log.info("home assistant discovery published topic={} components={} removed={}", topic, components.size(), removed.size());
            publishedDoc = bytes;
        } catch (MqttTransportException e) {
            // The next connection publishes again.
            log.warn("home assistant discovery not published: {}", e.getMessage());
        }
    }

    /** The quantities of each sensor of the config; one whose driver cannot say is left out, with a warning. */
    private Map<String, Discovery.Sensor> sensors(EffectiveConfig c) {
        Map<String, Discovery.Sensor> out = new LinkedHashMap<>();
        drivers.quantities(c.sensors().values(), (id, why) -> log.warn("sensor {} left out of home assistant discovery: {}", id, why))
                .forEach((id, q) -> out.put(id, new Discovery.Sensor(c.sensors().get(id).driver(), q)));
        return out;
    }

    private void load() {
        try {
            var read = CheckedFile.read(file);
            if (read.isEmpty()) return;
            com.fasterxml.jackson.databind.JsonNode j = Json.tree(String.join("\n", read.get().lines()).getBytes(StandardCharsets.UTF_8));
            j.path("components").properties().forEach(e -> known.put(e.getKey(), e.getValue().asText()));
            // Left at the broker by an earlier run: removed from there if discovery is off now, or moved.
            if (j.path("topic").isTextual()) publishedTopic = j.path("topic").asText();
        } catch (IOException | RuntimeException e) {
            log.warn("{} not read ({}): a sensor removed while the agent was stopped may stay in home assistant", file, e.toString());
        }
    }

    /** Written whole ({@link CheckedFile}), not forced to the card: losing it costs at most a stale entity. */
    private void save() {
        try {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("topic", publishedTopic);
            m.put("components", known);
            CheckedFile.write(file, new String(Json.write(m), StandardCharsets.UTF_8) + "\n", false);
        } catch (IOException e) {
            log.warn("{} not written: {}", file, e.toString());
        }
    }

    private void run(Runnable r) {
        try {
            thread.execute(r);
        } catch (RejectedExecutionException closed) {
            // stopping
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
