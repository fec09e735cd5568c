package dev.meerkat.agent;

import dev.meerkat.agent.admin.AdminServer;
import dev.meerkat.agent.bridge.Outbox;
import dev.meerkat.agent.bridge.Reading;
import dev.meerkat.agent.journal.Journal;
import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.agent.mqtt.MqttSecurity;
import dev.meerkat.agent.mqtt.PahoTransport;
import dev.meerkat.agent.sampling.BusLocks;
import dev.meerkat.agent.sampling.Sampler;
import dev.meerkat.coordination.locks.HardwareLocks;
import dev.meerkat.drivers.pi4j.Pi4jBuses;
import dev.meerkat.agent.sampling.SensorRunner;
import dev.meerkat.agent.state.LastGoodConfig;
import dev.meerkat.agent.status.StatusReport;
import dev.meerkat.agent.status.StatusReporter;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigLayers;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.agent.systemd.ServiceNotifier;
import dev.meerkat.coordination.security.TlsDiagnosis;
import dev.meerkat.coordination.security.ZooKeeperSecurity;
import dev.meerkat.coordination.configwatch.ConfigWatch;
import dev.meerkat.coordination.election.Election;
import dev.meerkat.coordination.rollout.RolloutCoordinator;
import dev.meerkat.agent.firmware.FirmwareUpdater;
import dev.meerkat.coordination.registration.MemberInfo;
import dev.meerkat.coordination.registration.Registration;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.coordination.status.StatusWriter;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.Drivers;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gateway agent: registered in ZooKeeper, running the sensors of its effective config and
 * applying every change of it live, publishing readings to MQTT. {@link #start()} brings the parts
 * up in dependency order, {@link #close()} takes them down in reverse, each step bounded.
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(3);
    /** Changes this close together become one apply. */
    public static final Duration DEBOUNCE = Duration.ofMillis(5);

    final BootstrapConfig boot;
    private final Drivers drivers;
    private final Clock clock;
    private final FleetPaths paths;
    private final LastGoodConfig lastGood;
    final Reconfigurer reconfigurer;
    private final CountDownLatch firstApply = new CountDownLatch(1);
    private CuratorFramework zk;
    private TlsDiagnosis tlsDiagnosis;
    private static final Duration ROLLOUT_TICK = Duration.ofSeconds(1);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration MQTT_LOOP_STALE = Duration.ofSeconds(120);
    Session session;
    HardwareLocks locks;
    private final Pi4jBuses buses = new Pi4jBuses(java.nio.file.Path.of("/dev"));
    Registration registration;
    private Journal journal;
    private long recovered;
    private AdminServer admin;
    private MqttSecurity mqttSecurity;
    private volatile Outbox outbox;
    private Sampler sampler;
    private ConfigWatch watch;
    private StatusReporter status;
    private RolloutCoordinator rollouts;
    Election election;
    FirmwareUpdater firmware;
    private final String runningFirmware = FirmwareUpdater.running(AgentVersion.get());
    private volatile Runnable restartRequest = () -> log.error("a restart was asked for, and nothing listens");
    private volatile java.util.function.Consumer<EffectiveConfig> appliedListener = c -> {};
    private boolean closed;
    /** Why ZooKeeper's config is not applied although ZooKeeper answers; null when there is no such problem. */
    volatile String configProblem;

    public Agent(BootstrapConfig boot, Drivers drivers, Clock clock) {
        this.boot = boot;
        this.drivers = drivers;
        this.clock = clock;
        this.paths = new FleetPaths(boot.zookeeper().root(), boot.device().fleet(), boot.device().id());
        this.lastGood = new LastGoodConfig(boot.storageDir());
        this.reconfigurer = new Reconfigurer(new Reconfigurer.Parts() {
            @Override
            public void startRunning(EffectiveConfig first) {
                Agent.this.startRunning(first);
            }

            @Override
            public Sampler.Changes applySensors(Map<String, SensorConfig> sensors) {
                return sampler.apply(sensors);
            }

            @Override
            public void retarget(EffectiveConfig config) {
                outbox.retarget(topicPrefix(config) + "/status", config.agent().mqtt().retainStatus());
            }

            @Override
            public void delivery(EffectiveConfig config) {
                Agent.this.delivery(config);
            }
        }, clock);
    }

    /**
     * Starts the agent and waits for its first config: {@link #launch()}, then
     * {@link #awaitFirstConfig()}. Interrupt the calling thread to give up waiting.
     */
    public void start() throws InterruptedException, IOException {
        launch();
        awaitFirstConfig();
    }

    /**
     * Brings the agent's parts up, without waiting for any server: with a last good config on disk,
     * its sensors run at once, whether ZooKeeper answers or not; without one, the first config
     * comes when ZooKeeper answers ({@link #awaitFirstConfig()}). What systemd waits on (READY) may
     * follow this at once.
     */
    public void launch() throws IOException {
        // Every secret and store read now: a bad one stops the start with a message naming the file.
        mqttSecurity = MqttSecurity.of(boot.mqtt());
        Files.createDirectories(boot.storageDir());
        // First: a second agent on the same socket stops here, before it touches the journal.
        AgentViews views = new AgentViews(this);
        admin = AdminServer.start(boot.adminSocket(), Map.of("status", a -> views.status(), "config", a -> views.config(),
                "read", views::readNow));
        // The journal's segment size follows from its default bound; the config's bounds apply with the first config.
        var buffer = dev.meerkat.config.AgentSettings.DEFAULTS.buffer();
        journal = Journal.open(Journal.Options.of(boot.storageDir().resolve("journal"), buffer.maxBytes(), buffer.maxAge()), clock);
        journal.onChange(this::statusChanged); // drops and a write error go to the status at once
        recovered = journal.depth(); // readings of the run before, still to send: counted as enqueued by this run
        ZooKeeperSecurity zkSecurity = ZooKeeperSecurity.of(boot.zookeeper());
        zk = ZooKeeperClients.forDevice(boot.zookeeper(), paths, zkSecurity);
        session = new Session(zk, boot.zookeeper().sessionTimeout());
        zk.start();
        zkSecurity.sslContext().ifPresent(ssl -> tlsDiagnosis = TlsDiagnosis.start(boot.zookeeper().connect(), ssl,
                () -> session.connected(), Duration.ofSeconds(Math.max(5, Math.min(30, boot.zookeeper().sessionTimeout().toSeconds())))));
        // Each status written to ZooKeeper also goes to the retained status topic, with its delivery accounting.
        status = new StatusReporter(new StatusWriter(zk, paths.status()), this::statusReport, this::statusWritten);
        locks = new HardwareLocks(zk, session, boot.zookeeper().root());
        registration = new Registration(zk, paths.member(), memberInfo(), Optional.of(boot.storageDir().resolve("session")));
        registration.start(session);
        // A ZooKeeper outage shows on the retained status topic too (STATUS= and meerkat status read the session).
        session.listen(new Session.Listener() {
            @Override
            public void suspended() {
                zooKeeperChanged();
            }

            @Override
            public void lost() {
                zooKeeperChanged();
            }

            @Override
            public void connected(long sessionId, boolean newSession) {
                zooKeeperChanged();
            }
        });
        // The fleet's election; while this agent leads, it drives the fleet's rollouts.
        rollouts = new RolloutCoordinator(zk, paths, clock, this::healthTimeout, ROLLOUT_TICK);
        election = new Election(zk, paths.election(), boot.device().id(), rollouts);
        try {
            election.start();
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new IOException("cannot join the fleet's election: " + e, e);
        }
        firmware = new FirmwareUpdater(zk, paths, boot.firmware(), boot.storageDir(), FirmwareUpdater.versionsDir(), runningFirmware,
                clock, this::healthProblem, () -> restartRequest.run());
        firmware.start(session);

        Optional<LastGoodConfig.Saved> saved = loadLastGood();
        saved.ifPresent(s -> {
            log.info("running the last good config saved at {} until ZooKeeper's config is read", s.savedAt());
            apply(ConfigLayers.build(s.fleet(), s.device(), drivers), false);
        });
        watch = new ConfigWatch(zk, paths, DEBOUNCE, this::received);
        watch.start(session);
        log.info("agent started device={} fleet={}{}", boot.device().id(), boot.device().fleet(),
                saved.isEmpty() ? "; waiting for a first config from ZooKeeper" : "");
    }

    /**
     * Waits until a config runs (at once when the last good one was loaded), logging at growing
     * intervals while it waits: 10 s, then doubling to 10 minutes.
     */
    public void awaitFirstConfig() throws InterruptedException {
        long waitS = 10;
        while (!firstApply.await(waitS, TimeUnit.SECONDS)) {
            log.warn("waiting for a first config from ZooKeeper connect={} ({})", boot.zookeeper().connect(),
                    zooKeeperConnected() ? "connected" : "not connected");
            waitS = Math.min(600, waitS * 2);
        }
    }

    /**
     * A snapshot of ZooKeeper's config subtrees. Without the fleet's config znode at all (an
     * ensemble wiped, or restored from an old snapshot) it is not an operator's "no sensors": the
     * config in force keeps running, and the problem is reported until the subtree is back.
     */
    private void received(ConfigWatch.Snapshot snapshot) {
        if (!snapshot.fleetExists()) {
            String problem = "the fleet's config znode " + paths.fleetConfig() + " does not exist in ZooKeeper; "
                    + (reconfigurer.running() == null ? "waiting for it" : "the config in force keeps running until it does");
            if (!problem.equals(configProblem)) log.error("{}", problem);
            configProblem = problem;
            if (status != null) status.update();
            return;
        }
        if (configProblem != null) {
            log.info("the fleet's config znode {} exists again", paths.fleetConfig());
            configProblem = null;
        }
        apply(ConfigLayers.build(snapshot.fleet(), snapshot.device(), drivers, reconfigurer.inForce()), true);
    }

    private Optional<LastGoodConfig.Saved> loadLastGood() {
        try {
            return lastGood.load();
        } catch (IOException | RuntimeException e) {
            log.error("the last good config {} cannot be read, waiting for ZooKeeper instead: {}", lastGood.file(), e.toString());
            return Optional.empty();
        }
    }

    /** What to do when a firmware installer needs the agent restarted (exit code 75; {@code meerkat run} sets it). */
    public void onRestart(Runnable request) {
        this.restartRequest = request;
    }

    /**
     * Told of each config from ZooKeeper once it is applied, on the applying thread (keep it short):
     * for programs that embed agents, such as the fleet benchmark.
     */
    public void onApplied(java.util.function.Consumer<EffectiveConfig> listener) {
        this.appliedListener = listener;
    }

    private Duration healthTimeout() {
        EffectiveConfig c = reconfigurer.running();
        return (c == null ? dev.meerkat.config.AgentSettings.DEFAULTS : c.agent()).rollout().healthTimeout();
    }

    /**
     * What keeps this agent from being healthy, for the check after a firmware update: registered,
     * a config applied, MQTT connected, and every sensor has read (and is not failing).
     */
    public Optional<String> healthProblem() {
        if (!registered()) return Optional.of("not registered in ZooKeeper");
        if (reconfigurer.running() == null) return Optional.of("no config applied");
        if (!mqttConnected()) return Optional.of("MQTT not connected");
        for (var e : sensors().entrySet()) {
            SensorRunner r = e.getValue();
            if (r.state() == SensorRunner.State.FAILING || r.state() == SensorRunner.State.FAILED) {
                return Optional.of("sensor " + e.getKey() + " is " + r.state().json());
            }
            if (r.last() == null) return Optional.of("sensor " + e.getKey() + " has not read yet");
        }
        return Optional.empty();
    }

    /** Applies a built config (on the config watch's thread, or at start), then saves and reports. */
    private synchronized void apply(ConfigLayers.Result result, boolean fromZooKeeper) {
        if (closed) return;
        Reconfigurer.Outcome outcome = reconfigurer.apply(result);
        if (fromZooKeeper && outcome.documentsChanged()) {
            try {
                lastGood.save(result.usedFleet(), result.usedDevice(), clock.instant());
            } catch (IOException e) {
                log.error("cannot save the last good config to {}: {}", lastGood.file(), e.toString());
            }
        }
        if (fromZooKeeper) status.update();
        firstApply.countDown();
        if (fromZooKeeper && reconfigurer.running() != null) appliedListener.accept(reconfigurer.running());
    }

    /** The first config: the MQTT link and the sampler come up with it. */
    private void startRunning(EffectiveConfig config) {
        String prefix = topicPrefix(config);
        try {
            outbox = new Outbox(new PahoTransport(boot.mqtt().uri(), boot.mqttClientId(), 30, mqttSecurity), journal, prefix + "/status",
                    config.agent().mqtt().retainStatus(), AgentVersion.get(), clock, this::statusChanged);
        } catch (MqttTransportException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        delivery(config);
        outbox.zooKeeper(session.connected());
        outbox.start();
        sampler = new Sampler(drivers, new DriverContext(clock, boot.device().id(), buses), journal::nextSeq, this::publish,
                this::statusChanged, locks::acquire, new BusLocks(BusLocks.defaultDir(boot.storageDir().resolve("bus-locks"))));
    }

    private void zooKeeperChanged() {
        Outbox o = outbox;
        if (o != null) o.zooKeeper(session.connected());
    }

    /** The journal's bounds and the outbox's batching, from the agent settings. */
    private void delivery(EffectiveConfig config) {
        var b = config.agent().buffer();
        journal.bounds(b.maxBytes(), b.maxAge(), b.onFull().equals("drop-newest"));
        var batch = config.agent().publish().batch();
        outbox.batching(batch.maxMessages(), batch.maxDelay());
    }

    private String topicPrefix(EffectiveConfig config) {
        return config.agent().mqtt().topicPrefix() + "/" + boot.device().fleet() + "/" + boot.device().id();
    }

    private void statusChanged() {
        if (status != null) status.update();
    }

    private void publish(SensorRunner.Taken t) {
        EffectiveConfig config = reconfigurer.running();
        Reading r = new Reading(boot.device().id(), t.sensor().id(), t.seq(), t.ts(), t.sample().values(),
                t.sample().units(), t.lockToken());
        outbox.offer(r, topicPrefix(config) + "/sensors/" + t.sensor().id(), t.sensor().qosOr(config.agent().mqtt().qos()));
    }

    StatusReport statusReport() {
        EffectiveConfig config = reconfigurer.running();
        if (config == null) return null;
        Map<String, StatusReport.Sensor> sensors = new LinkedHashMap<>();
        sensors().forEach((id, r) -> sensors.put(id, new StatusReport.Sensor(r.state().json(),
                r.last() == null ? null : r.last().ts(), r.errors(), r.lockSkips(), r.lastError())));
        // A fleet config missing in ZooKeeper is reported as a config error of the status znode too, so
        // that the operator's views (fleet list) show it for this gateway.
        List<dev.meerkat.config.ConfigError> errors = reconfigurer.errors();
        if (configProblem != null) {
            errors = new java.util.ArrayList<>(errors);
            errors.add(new dev.meerkat.config.ConfigError(paths.relative(paths.fleetConfig()), "$",
                    "does not exist in ZooKeeper; the config in force keeps running until it does"));
        }
        return new StatusReport(config, reconfigurer.appliedAt(), errors, sensors, mqttConnected(), delivery(), runningFirmware);
    }

    /** The report just written to the status znode goes to the retained status topic too (no second build). */
    private void statusWritten(StatusReport report) {
        if (outbox != null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> mqtt = (Map<String, Object>) report.toJson().get("mqtt");
            Map<String, Object> d = new LinkedHashMap<>(mqtt);
            d.remove("connected");
            outbox.announce(d);
        }
    }

    /**
     * The delivery accounting of the status (SPEC §5): buffered, enqueued, sent, acknowledged,
     * dropped, since this agent started. Enqueued counts the readings found unacknowledged in the
     * journal at the start too, since this run sends them: sent never exceeds it for want of them.
     */
    public StatusReport.Delivery delivery() {
        if (journal == null) return StatusReport.Delivery.NONE;
        Journal.Counters c = journal.counters();
        return new StatusReport.Delivery(journal.depth(), journal.oldestUnacknowledged(), recovered + c.appended(),
                outbox == null ? 0 : outbox.sent(), outbox == null ? 0 : outbox.acknowledged(), c.dropped(),
                c.lastDroppedAtMillis() == 0 ? null : java.time.Instant.ofEpochMilli(c.lastDroppedAtMillis()), c.lastError());
    }

    private MemberInfo memberInfo() {
        return new MemberInfo(boot.device().id(), boot.device().fleet(), AgentVersion.get(), runningFirmware, HostFacts.hostName(),
                HostFacts.addresses(), clock.instant().toString(), HostFacts.capabilities());
    }

    public String deviceId() {
        return boot.device().id();
    }

    /** The config running now; null before the first. */
    public EffectiveConfig config() {
        return reconfigurer.running();
    }

    /**
     * Registered now, from what the agent holds (no round trip): connected, and the member znode's
     * owner, as the registration last verified it (its watch tells of a deletion), is this session.
     */
    public boolean registered() {
        return registration != null && session != null && session.connected() && registration.registeredIn(session.id());
    }

    /** Connected to a ZooKeeper server now, as far as the client knows (no round trip). */
    public boolean zooKeeperConnected() {
        return session != null && session.connected();
    }

    /** This agent leads its fleet now. */
    public boolean leading() {
        return election != null && election.leading();
    }

    /** The agent's ZooKeeper client, for fault injection in tests (ending its session); null before {@link #start()}. */
    public CuratorFramework zooKeeperClient() {
        return zk;
    }

    public boolean mqttConnected() {
        return outbox != null && outbox.connected();
    }

    /**
     * The agent's own loops, which systemd's watchdog waits on (see {@link ServiceNotifier}). None of
     * them asks a server: a ZooKeeper or broker that does not answer is an outage, reported in the
     * status, and answered by the clients' reconnects, never by a restart.
     */
    public List<ServiceNotifier.Probe> probes() {
        return List.of(
                new ServiceNotifier.Probe("mqtt", () -> outbox == null || outbox.loopAlive(MQTT_LOOP_STALE)),
                new ServiceNotifier.Probe("sampling", () -> sampler == null || sampler.alive(PROBE_TIMEOUT)));
    }

    /**
     * One line for systemd's STATUS: registration, config, MQTT and sensors. From memory only:
     * systemd's notifier calls it, and it must never wait on a server.
     */
    public String summary() {
        EffectiveConfig c = config();
        long failing = sensors().values().stream().filter(r -> r.state() == SensorRunner.State.FAILING || r.state() == SensorRunner.State.FAILED).count();
        String problem = configProblem;
        return (registered() ? "registered" : session != null && session.connected() ? "connected, not registered" : "zookeeper not connected")
                + (c == null ? ", waiting for a first config" : ", " + versions(c))
                + (problem == null ? "" : ", fleet config missing in ZooKeeper")
                + ", mqtt " + (mqttConnected() ? "connected" : "not connected")
                + (outbox == null ? "" : ", " + outbox.depth() + " buffered")
                + ", " + sensors().size() + " sensor(s)" + (failing == 0 ? "" : " (" + failing + " failing)");
    }

    /** "config fleet v3, device v1"; a layer without documents (version -1) is left out. */
    static String versions(EffectiveConfig c) {
        if (c.fleetVersion() < 0 && c.deviceVersion() < 0) return "config empty";
        return "config " + (c.fleetVersion() < 0 ? "" : "fleet v" + c.fleetVersion())
                + (c.fleetVersion() >= 0 && c.deviceVersion() >= 0 ? ", " : "")
                + (c.deviceVersion() < 0 ? "" : "device v" + c.deviceVersion());
    }

    public Map<String, SensorRunner> sensors() {
        return sampler == null ? Map.of() : sampler.sensors();
    }

    /**
     * The clean stop: config watch and sensors first, then the buffer is flushed (bounded), the
     * member znode deleted (best effort), offline published, and the connections closed. Every
     * step that talks to ZooKeeper is bounded by {@link #ZK_STEP}: a server that hangs during the
     * stop (the ensemble or the network goes first at a poweroff) costs a few seconds, never
     * systemd's stop timeout; what is left undone, the session's expiry does. Safe to call more than
     * once, and after a failed or interrupted {@link #start()}.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        // Stop coordinating, then leave the election: its znode goes now, and the next agent leads at
        // once. First, so that the fleet is not left without a leader while the rest stops (the
        // config watch and the firmware updater each wait up to 5 s for work in progress).
        if (rollouts != null) rollouts.close();
        if (election != null) bounded("leaving the election", () -> {
            try {
                election.close();
            } catch (IOException e) {
                log.warn("leaving the election: {}", e.toString());
            }
        });
        if (watch != null) watch.close();
        if (firmware != null) firmware.close();
        if (sampler != null) sampler.close();
        if (outbox != null) {
            try {
                if (!outbox.flush(FLUSH_TIMEOUT)) {
                    log.warn("stopping with {} readings unacknowledged after {}ms; they stay in the journal and go after the next start",
                            outbox.depth(), FLUSH_TIMEOUT.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (locks != null) bounded("releasing the hardware locks", locks::close);
        buses.close();
        if (registration != null) registration.close(ZK_STEP);
        if (outbox != null) outbox.close();
        if (status != null) status.close();
        if (session != null) session.close();
        if (tlsDiagnosis != null) tlsDiagnosis.close();
        if (zk != null) bounded("closing the ZooKeeper session", zk::close);
        if (journal != null) journal.close();
        if (admin != null) admin.close();
        log.info("agent stopped device={}", boot.device().id());
    }

    /** How long one step of the stop may wait for ZooKeeper. */
    static final Duration ZK_STEP = Duration.ofSeconds(2);

    /**
     * Runs one step of the stop on a thread of its own and waits for it at most {@link #ZK_STEP};
     * a step still waiting for a server then is left to finish or die with the process.
     */
    private static void bounded(String what, Runnable step) {
        Thread t = Thread.ofPlatform().daemon().name("meerkat-stop").start(() -> {
            try {
                step.run();
            } catch (RuntimeException e) {
                log.warn("stopping: {} failed: {}", what, e.toString());
            }
        });
        try {
            t.join(ZK_STEP.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) log.warn("stopping: {} did not finish within {} s (ZooKeeper does not answer); going on", what, ZK_STEP.toSeconds());
    }
}
