package dev.meerkat.agent;

import dev.meerkat.agent.bridge.Reading;
import dev.meerkat.agent.journal.Journal;
import dev.meerkat.agent.sampling.SensorRunner;
import dev.meerkat.agent.status.StatusReport;
import dev.meerkat.config.EffectiveConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the admin socket answers ({@code meerkat status}, {@code meerkat config show},
 * {@code meerkat sensors read}): the agent's state as JSON, from memory, never a round trip to a
 * server. Reads the agent's parts as they are (some are not made yet while it starts).
 */
final class AgentViews {
    private final Agent agent;

    AgentViews(Agent agent) {
        this.agent = agent;
    }

    /** {@code meerkat status}: everything the agent knows about itself, from memory. */
    Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", agent.boot.device().id());
        m.put("fleet", agent.boot.device().fleet());
        m.put("agentVersion", AgentVersion.get());
        Map<String, Object> zkState = new LinkedHashMap<>();
        zkState.put("connected", agent.session != null && agent.session.connected());
        zkState.put("session", agent.session == null || agent.session.id() == 0 ? null : "0x" + Long.toHexString(agent.session.id()));
        zkState.put("sessionTimeoutMs", agent.session == null ? null : agent.session.negotiatedTimeoutMs());
        zkState.put("registered", agent.registered()); // as STATUS= and the health check say it: connected, and the owner verified
        long conflict = agent.registration == null ? 0 : agent.registration.conflictWith();
        zkState.put("memberHeldBy", conflict == 0 ? null : "0x" + Long.toHexString(conflict));
        m.put("zookeeper", zkState);
        Map<String, Object> leader = new LinkedHashMap<>();
        var leadership = agent.election == null ? Optional.<dev.meerkat.coordination.election.Leadership>empty() : agent.election.leadership();
        leader.put("leading", leadership.isPresent());
        leader.put("leader", agent.election == null ? null : agent.election.leader().orElse(null)); // as last seen: never a round trip
        leader.put("epoch", leadership.map(l -> (Object) l.epoch()).orElse(null));
        // The candidate slot this agent stands with (null: it does not stand now).
        leader.put("candidate", agent.candidacy == null ? null : agent.candidacy.slot().orElse(null));
        m.put("leader", leader);
        Map<String, Object> lockState = new LinkedHashMap<>();
        if (agent.locks != null) {
            lockState.put("held", agent.locks.held());
            var c = agent.locks.counters();
            lockState.put("acquired", c.acquired());
            lockState.put("timedOut", c.timedOut());
            lockState.put("failed", c.failed());
        }
        m.put("locks", lockState);
        StatusReport report = statusReport();
        if (report != null) {
            Map<String, Object> r = report.toJson();
            m.put("config", r.get("config"));
            m.put("sensors", r.get("sensors"));
            @SuppressWarnings("unchecked")
            Map<String, Object> mqtt = (Map<String, Object>) r.get("mqtt");
            mqtt.put("bySensor", bySensor());
            m.put("mqtt", mqtt);
            m.put("firmware", agent.firmware == null ? r.get("firmware") : agent.firmware.status());
            var publish = report.config().agent().publish();
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("format", publish.format());
            p.put("homeAssistantDiscovery", publish.homeAssistant().discovery()
                    ? dev.meerkat.agent.homeassistant.Discovery.topic(publish.homeAssistant().prefix(), agent.boot.device().fleet(), agent.boot.device().id())
                    : null);
            if (agent.outbox != null) p.putAll(agent.outbox.formatState()); // Sparkplug: the node's bdSeq, seq, the primary host
            m.put("publish", p);
        } else {
            m.put("config", null);
        }
        if (agent.configProblem != null) m.put("configProblem", agent.configProblem);
        String metrics = agent.metrics == null ? null : agent.metrics.problem();
        if (metrics != null) m.put("metricsProblem", metrics);
        return m;
    }

    /** {@code meerkat sensors read S}: one reading now, published like the others. */
    Map<String, Object> readNow(String sensor) {
        Map<String, Object> m = new LinkedHashMap<>();
        SensorRunner r = agent.sensors().get(sensor);
        if (r == null) {
            m.put("error", "no sensor \"" + sensor + "\" runs here; sensors: " + String.join(", ", new java.util.TreeSet<>(agent.sensors().keySet())));
            return m;
        }
        SensorRunner.Taken t;
        try {
            t = r.readNow(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            t = null;
        }
        if (t == null) {
            m.put("error", "sensor " + sensor + " did not give a reading (state " + r.state().json() + ", errors " + r.errors() + "; the agent's log says why)");
            return m;
        }
        m.putAll(new Reading(agent.boot.device().id(), sensor, t.seq(), t.ts(), t.sample().values(), t.sample().units(), t.lockToken()).toJson());
        return m;
    }

    /** {@code meerkat config show}: the documents in force and the effective config they make. */
    Map<String, Object> config() {
        Map<String, Object> m = new LinkedHashMap<>();
        EffectiveConfig config = agent.reconfigurer.running();
        m.put("device", agent.boot.device().id());
        m.put("fleet", agent.boot.device().fleet());
        if (config == null) return m;
        m.put("fleetVersion", config.fleetVersion());
        m.put("deviceVersion", config.deviceVersion());
        m.put("digest", config.digest());
        m.put("appliedAt", agent.reconfigurer.appliedAt() == null ? null : agent.reconfigurer.appliedAt().toString());
        Map<String, Object> docs = new LinkedHashMap<>();
        agent.reconfigurer.inForce().values().stream().sorted(java.util.Comparator.comparing(dev.meerkat.config.ConfigDocument::znode)).forEach(d -> {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("version", d.version());
            try {
                one.put("document", dev.meerkat.config.Json.tree(d.data()));
            } catch (IOException e) {
                one.put("document", new String(d.data(), java.nio.charset.StandardCharsets.UTF_8));
            }
            docs.put(d.znode(), one);
        });
        m.put("documents", docs);
        m.put("effective", EffectiveJson.of(config));
        return m;
    }

    /** The status of SPEC §5 for the status znode and topic; null before the first config. */
    StatusReport statusReport() {
        EffectiveConfig config = agent.reconfigurer.running();
        if (config == null) return null;
        Map<String, StatusReport.Sensor> sensors = new LinkedHashMap<>();
        agent.sensors().forEach((id, r) -> sensors.put(id, new StatusReport.Sensor(r.state().json(),
                r.last() == null ? null : r.last().ts(), r.errors(), r.lockSkips(), r.lastError())));
        // A fleet config missing in ZooKeeper is reported as a config error of the status znode too, so
        // that the operator's views (fleet list) show it for this gateway.
        List<dev.meerkat.config.ConfigError> errors = agent.reconfigurer.errors();
        if (agent.configProblem != null) {
            errors = new java.util.ArrayList<>(errors);
            errors.add(new dev.meerkat.config.ConfigError(agent.paths.relative(agent.paths.fleetConfig()), "$",
                    "does not exist in ZooKeeper; the config in force keeps running until it does"));
        }
        return new StatusReport(config, agent.reconfigurer.appliedAt(), errors, sensors, agent.mqttConnected(), delivery(), agent.runningFirmware);
    }

    /**
     * Readings enqueued and acknowledged by this run, per sensor (every sensor with readings in the
     * journal this run, a removed one's backlog included): {@code meerkat status} only, not the
     * status znode, whose size does not grow with them.
     */
    private Map<String, Object> bySensor() {
        if (agent.journal == null) return Map.of();
        Map<String, Long> enqueued = agent.journal.counters().enqueued();
        Map<String, Long> acked = agent.outbox == null ? Map.of() : agent.outbox.acknowledged().bySensor();
        Map<String, Object> m = new java.util.TreeMap<>();
        java.util.Set<String> sensors = new java.util.TreeSet<>(enqueued.keySet());
        sensors.addAll(acked.keySet());
        for (String s : sensors) m.put(s, Map.of("enqueued", enqueued.getOrDefault(s, 0L), "acknowledged", acked.getOrDefault(s, 0L)));
        return m;
    }

    /** The report just written to the status znode goes to the retained status topic too (no second build). */
    void statusWritten(StatusReport report) {
        if (agent.outbox != null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> mqtt = (Map<String, Object>) report.toJson().get("mqtt");
            Map<String, Object> d = new LinkedHashMap<>(mqtt);
            d.remove("connected");
            agent.outbox.announce(d);
        }
    }

    /**
     * The delivery accounting of the status (SPEC §5): buffered, enqueued, sent, acknowledged,
     * dropped, since this agent started. Enqueued counts the readings found unacknowledged in the
     * journal at the start too, since this run sends them: sent never exceeds it for want of them.
     */
    StatusReport.Delivery delivery() {
        if (agent.journal == null) return StatusReport.Delivery.NONE;
        Journal.Counters c = agent.journal.counters();
        return new StatusReport.Delivery(agent.journal.depth(), agent.journal.oldestUnacknowledged(), agent.recovered + c.appended(),
                agent.outbox == null ? 0 : agent.outbox.sent(), agent.outbox == null ? 0 : agent.outbox.acknowledged().total(), c.dropped(),
                c.lastDroppedAtMillis() == 0 ? null : java.time.Instant.ofEpochMilli(c.lastDroppedAtMillis()), c.lastError(),
                agent.journal.recovery().seqGaps(), c.bytesOnDisk());
    }
}
