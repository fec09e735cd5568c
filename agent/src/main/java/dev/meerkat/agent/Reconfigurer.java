package dev.meerkat.agent;

import dev.meerkat.agent.logging.Logging;
import dev.meerkat.agent.sampling.Sampler;
import dev.meerkat.config.AgentSettings;
import dev.meerkat.config.ConfigDocument;
import dev.meerkat.config.ConfigError;
import dev.meerkat.config.ConfigLayers;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.config.SensorConfig;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns each newly built config into the smallest change of the running agent: only the sensors
 * whose settings changed are restarted, added ones started, removed ones stopped; the agent
 * settings that can change live do (log level, MQTT topic prefix and status retention; QoS is read
 * per reading). A config whose digest and versions are those running is not applied again, so a
 * resync after a reconnect applies a missed change exactly once.
 */
final class Reconfigurer {
    private static final Logger log = LoggerFactory.getLogger(Reconfigurer.class);

    /** What the running agent does with a config. */
    interface Parts {
        /** The very first config: bring up what depends on it (the MQTT link, the sampler). */
        void startRunning(EffectiveConfig first);

        Sampler.Changes applySensors(Map<String, SensorConfig> sensors);

        /** The status topic moved (topic prefix or retention changed). */
        void retarget(EffectiveConfig config);

        /** The journal's bounds or the batching changed. */
        void delivery(EffectiveConfig config);
    }

    record Outcome(boolean applied, boolean documentsChanged) {}

    private final Parts parts;
    private final Clock clock;
    private volatile EffectiveConfig running;
    private volatile Instant appliedAt;
    private volatile List<ConfigError> errors = List.of();
    private volatile Map<String, ConfigDocument> inForce = Map.of();

    Reconfigurer(Parts parts, Clock clock) {
        this.parts = parts;
        this.clock = clock;
    }

    synchronized Outcome apply(ConfigLayers.Result result) {
        reportErrors(result.errors());
        boolean documentsChanged = !sameDocuments(inForce, result.used());
        inForce = result.used();
        EffectiveConfig next = result.config();
        EffectiveConfig was = running;
        if (was != null && was.digest().equals(next.digest()) && was.fleetVersion() == next.fleetVersion()
                && was.deviceVersion() == next.deviceVersion()) {
            return new Outcome(false, documentsChanged);
        }
        AgentSettings a = next.agent();
        if (was == null) {
            Logging.setLevel(a.logLevel());
            parts.startRunning(next);
        } else {
            if (!a.logLevel().equals(was.agent().logLevel())) Logging.setLevel(a.logLevel());
            if (!a.mqtt().topicPrefix().equals(was.agent().mqtt().topicPrefix())
                    || a.mqtt().retainStatus() != was.agent().mqtt().retainStatus()) {
                parts.retarget(next);
            }
            if (!a.buffer().equals(was.agent().buffer()) || !a.publish().equals(was.agent().publish())) {
                parts.delivery(next);
            }
        }
        running = next;
        Sampler.Changes changes = parts.applySensors(next.sensors());
        appliedAt = clock.instant();
        log.info("config applied fleetVersion={} deviceVersion={} digest={} sensors: {}", next.fleetVersion(),
                next.deviceVersion(), next.digest().substring(0, 19), changes);
        return new Outcome(true, documentsChanged);
    }

    /** Logs an error when it appears and once more when it is gone, not at every apply. */
    private void reportErrors(List<ConfigError> now) {
        Set<ConfigError> before = new HashSet<>(errors);
        for (ConfigError e : now) if (!before.contains(e)) log.error("config rejected: {}", e);
        Set<ConfigError> after = new HashSet<>(now);
        for (ConfigError e : errors) if (!after.contains(e)) log.info("config error cleared: {}", e);
        errors = List.copyOf(now);
    }

    private static boolean sameDocuments(Map<String, ConfigDocument> a, Map<String, ConfigDocument> b) {
        if (!a.keySet().equals(b.keySet())) return false;
        for (var e : a.entrySet()) {
            ConfigDocument x = e.getValue(), y = b.get(e.getKey());
            if (x.version() != y.version() || !Arrays.equals(x.data(), y.data())) return false;
        }
        return true;
    }

    EffectiveConfig running() {
        return running;
    }

    Instant appliedAt() {
        return appliedAt;
    }

    List<ConfigError> errors() {
        return errors;
    }

    Map<String, ConfigDocument> inForce() {
        return inForce;
    }

}
