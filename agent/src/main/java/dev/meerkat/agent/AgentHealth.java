package dev.meerkat.agent;

import dev.meerkat.agent.sampling.SensorRunner;
import dev.meerkat.agent.systemd.ServiceNotifier;
import dev.meerkat.config.EffectiveConfig;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Whether the agent is well, from memory: the health check after a firmware update, the probes
 * systemd's watchdog waits on, and the one line of systemd's STATUS.
 */
final class AgentHealth {
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration MQTT_LOOP_STALE = Duration.ofSeconds(120);

    private final Agent agent;

    AgentHealth(Agent agent) {
        this.agent = agent;
    }

    /**
     * What keeps this agent from being healthy, for the check after a firmware update: registered,
     * a config applied, MQTT connected, and every sensor has read (and is not failing).
     */
    Optional<String> problem() {
        if (!agent.registered()) return Optional.of("not registered in ZooKeeper");
        if (agent.reconfigurer.running() == null) return Optional.of("no config applied");
        if (!agent.mqttConnected()) return Optional.of("MQTT not connected");
        for (var e : agent.sensors().entrySet()) {
            SensorRunner r = e.getValue();
            if (r.state() == SensorRunner.State.FAILING || r.state() == SensorRunner.State.FAILED) {
                return Optional.of("sensor " + e.getKey() + " is " + r.state().json());
            }
            if (r.last() == null) return Optional.of("sensor " + e.getKey() + " has not read yet");
        }
        return Optional.empty();
    }

    /**
     * The agent's own loops, which systemd's watchdog waits on (see {@link ServiceNotifier}). None of
     * them asks a server: a ZooKeeper or broker that does not answer is an outage, reported in the
     * status, and answered by the clients' reconnects, never by a restart.
     */
    List<ServiceNotifier.Probe> probes() {
        return List.of(
                new ServiceNotifier.Probe("mqtt", () -> agent.outbox == null || agent.outbox.loopAlive(MQTT_LOOP_STALE)),
                new ServiceNotifier.Probe("sampling", () -> agent.sampler == null || agent.sampler.alive(PROBE_TIMEOUT)));
    }

    /**
     * One line for systemd's STATUS: registration, config, MQTT and sensors. From memory only:
     * systemd's notifier calls it, and it must never wait on a server.
     */
    String summary() {
        EffectiveConfig c = agent.config();
        long failing = agent.sensors().values().stream().filter(r -> r.state() == SensorRunner.State.FAILING || r.state() == SensorRunner.State.FAILED).count();
        String problem = agent.configProblem;
        return (agent.registered() ? "registered" : agent.session != null && agent.session.connected() ? "connected, not registered" : "zookeeper not connected")
                + (c == null ? ", waiting for a first config" : ", " + versions(c))
                + (problem == null ? "" : ", fleet config missing in ZooKeeper")
                + ", mqtt " + (agent.mqttConnected() ? "connected" : "not connected")
                + (agent.outbox == null ? "" : ", " + agent.outbox.depth() + " buffered")
                + ", " + agent.sensors().size() + " sensor(s)" + (failing == 0 ? "" : " (" + failing + " failing)");
    }

    /** "config fleet v3, device v1"; a layer without documents (version -1) is left out. */
    static String versions(EffectiveConfig c) {
        if (c.fleetVersion() < 0 && c.deviceVersion() < 0) return "config empty";
        return "config " + (c.fleetVersion() < 0 ? "" : "fleet v" + c.fleetVersion())
                + (c.fleetVersion() >= 0 && c.deviceVersion() >= 0 ? ", " : "")
                + (c.deviceVersion() < 0 ? "" : "device v" + c.deviceVersion());
    }
}
