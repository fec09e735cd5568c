package dev.meerkat.agent;

import dev.meerkat.agent.bridge.Bridge;
import dev.meerkat.agent.bridge.Outbox;
import dev.meerkat.agent.homeassistant.HomeAssistantDiscovery;
import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.agent.mqtt.PahoTransport;
import dev.meerkat.config.EffectiveConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's bridge to the broker for {@code publish.format} (SPEC §12): {@link Outbox} for
 * Meerkat's JSON (with Home Assistant discovery beside it), the Sparkplug B edge node otherwise.
 * Each has an MQTT connection of its own; a change of format stops the old one (its readings not
 * yet sent stay in the journal) and starts the new one, which goes on from the journal.
 */
final class Bridges {
    private static final Logger log = LoggerFactory.getLogger(Bridges.class);

    private Bridges() {}

    /** A bridge for {@code config}'s format, not started. */
    static Bridge make(Agent a, EffectiveConfig config) {
        PahoTransport transport;
        try {
            transport = new PahoTransport(a.boot.mqtt().uri(), a.boot.mqttClientId(), 30, a.mqttSecurity);
        } catch (MqttTransportException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        var publish = config.agent().publish();
        String fleet = a.boot.device().fleet(), device = a.boot.device().id();
        if (publish.format().equals("sparkplug-b")) {
            // Only here: an agent that speaks JSON never loads Tahu or protobuf.
            return new dev.meerkat.agent.sparkplug.SparkplugBridge(transport, a.journal, fleet, device, a.boot.storageDir(),
                    publish.sparkplug().primaryHostId(), () -> {
                        EffectiveConfig running = a.reconfigurer.running(); // null only while the first config is being applied
                        return a.drivers.quantities((running == null ? config : running).sensors().values(),
                                (id, why) -> log.warn("sensor {} born in sparkplug without its quantities: {}", id, why));
                    },
                    a.clock, dev.meerkat.time.Ticker.SYSTEM, a::statusChanged);
        }
        HomeAssistantDiscovery ha = new HomeAssistantDiscovery(transport, fleet, device, AgentVersion.get(), a.drivers, a.boot.storageDir());
        a.homeAssistant = ha;
        return new Outbox(transport, a.journal, a.topicPrefix(config) + "/status", config.agent().mqtt().retainStatus(), AgentVersion.get(),
                a.clock, () -> {
                    a.statusChanged();
                    ha.connectionChanged();
                });
    }

    /** {@code publish.format} changed: the old bridge stops (same client id: it must be gone first), the new one starts. */
    static void swap(Agent a, EffectiveConfig config) {
        Bridge old = a.outbox;
        log.info("publish.format {} -> {}: the MQTT connection is made again", old.format(), config.agent().publish().format());
        HomeAssistantDiscovery ha = a.homeAssistant;
        a.homeAssistant = null;
        if (ha != null) ha.close();
        old.close();
        Bridge next = make(a, config);
        next.zooKeeper(a.session.connected());
        a.outbox = next;
        next.start();
    }
}
