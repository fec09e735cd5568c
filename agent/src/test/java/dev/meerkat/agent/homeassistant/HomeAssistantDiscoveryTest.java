package dev.meerkat.agent.homeassistant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.agent.mqtt.MqttTransport;
import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.config.AgentSettings;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.drivers.Drivers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code storage.dir/homeassistant.json} must hold when the process dies at the worst moment:
 * the broker has the retained document, the agent never heard its acknowledgement. The next start,
 * with discovery turned off meanwhile, must still remove the device from the broker.
 */
class HomeAssistantDiscoveryTest {
    static final String TOPIC = "homeassistant/device/meerkat_f_gw-1/config";

    /** Stands for kill -9: an error no code of the agent catches, so nothing after the publish runs. */
    static final class Killed extends Error {
        private static final long serialVersionUID = 1L;

        Killed() {
            super("killed inside the publish (test)", null, false, false);
        }
    }

    /** The broker side of a connection: what was published, in order; optionally the process dies inside a publish. */
    static final class Broker implements MqttTransport {
        record Published(String topic, int bytes, boolean retained) {}

        final BlockingQueue<Published> published = new LinkedBlockingQueue<>();
        final boolean dieAfterFirstPublish;

        Broker(boolean dieAfterFirstPublish) {
            this.dieAfterFirstPublish = dieAfterFirstPublish;
        }

        @Override
        public void publish(String topic, byte[] payload, int qos, boolean retained, Duration ackTimeout) {
            published.add(new Published(topic, payload.length, retained));
            // kill -9 here: the broker has it, nothing after this line runs in the agent.
            if (dieAfterFirstPublish) throw new Killed();
        }

        @Override
        public void subscribe(String topicFilter, int qos, java.util.function.BiConsumer<String, byte[]> listener, Duration timeout) {}

        @Override
        public void connect(Will will, Duration timeout) {}

        @Override
        public boolean isConnected() {
            return true;
        }

        @Override
        public void onConnectionLost(Runnable listener) {}

        @Override
        public void publishAsync(String topic, byte[] payload, int qos, java.util.function.Consumer<Throwable> done) throws MqttTransportException {
            throw new MqttTransportException("not used", null);
        }

        @Override
        public void disconnect(Duration timeout) {}

        @Override
        public void close() {}
    }

    static EffectiveConfig config(boolean discovery) {
        AgentSettings d = AgentSettings.DEFAULTS;
        AgentSettings.Publish p = new AgentSettings.Publish(d.publish().format(), d.publish().batch(),
                new AgentSettings.HomeAssistant(discovery, "homeassistant"), d.publish().sparkplug());
        return new EffectiveConfig(new AgentSettings(d.mqtt(), p, d.buffer(), d.rollout(), d.election(), d.logLevel()),
                new TreeMap<>(), 1, -1, "sha256:x");
    }

    @Test
    void killedBetweenTheBrokersCopyAndItsAcknowledgementTheDeviceIsStillRemovedLater(@TempDir Path dir) throws Exception {
        Broker first = new Broker(true);
        HomeAssistantDiscovery a = new HomeAssistantDiscovery(first, "f", "gw-1", "0.1.0", Drivers.of(), dir);
        a.update(config(true), "meerkat/f/gw-1");
        Broker.Published doc = first.published.poll(10, TimeUnit.SECONDS);
        assertNotNull(doc, "the document published");
        assertEquals(TOPIC, doc.topic());
        assertTrue(doc.bytes() > 0 && doc.retained());
        a.close();

        // The next start, discovery off: the empty retained document goes where the first one is.
        Broker second = new Broker(false);
        HomeAssistantDiscovery b = new HomeAssistantDiscovery(second, "f", "gw-1", "0.1.0", Drivers.of(), dir);
        try {
            b.update(config(false), "meerkat/f/gw-1");
            Broker.Published removal = second.published.poll(10, TimeUnit.SECONDS);
            assertNotNull(removal, "the device removed at the next start");
            assertEquals(new Broker.Published(TOPIC, 0, true), removal);
        } finally {
            b.close();
        }
    }
}
