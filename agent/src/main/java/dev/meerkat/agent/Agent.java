package dev.meerkat.agent;

import dev.meerkat.agent.admin.AdminServer;
import dev.meerkat.agent.bridge.Bridge;
import dev.meerkat.agent.bridge.Reading;
import dev.meerkat.agent.firmware.FirmwareUpdater;
import dev.meerkat.agent.homeassistant.HomeAssistantDiscovery;
import dev.meerkat.agent.journal.Journal;
import dev.meerkat.agent.mqtt.MqttSecurity;
import dev.meerkat.agent.sampling.BusLocks;
import dev.meerkat.agent.sampling.Sampler;
import dev.meerkat.agent.sampling.SensorRunner;
import dev.meerkat.agent.state.LastGoodConfig;
import dev.meerkat.agent.status.StatusReport;
import dev.meerkat.agent.status.StatusReporter;
import dev.meerkat.agent.systemd.ServiceNotifier;
import dev.meerkat.config.AgentSettings;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigLayers;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.coordination.configwatch.ConfigWatch;
import dev.meerkat.coordination.election.Candidacy;
import dev.meerkat.coordination.election.Election;
import dev.meerkat.coordination.locks.HardwareLocks;
import dev.meerkat.coordination.registration.MemberInfo;
import dev.meerkat.coordination.registration.Registration;
import dev.meerkat.coordination.rollout.RolloutCoordinator;
import dev.meerkat.coordination.security.TlsDiagnosis;
import dev.meerkat.coordination.security.ZooKeeperSecurity;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.coordination.status.StatusWriter;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.Drivers;
import dev.meerkat.drivers.pi4j.Pi4jBuses;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
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
    /** Changes this close together become one apply. */
    public static final Duration DEBOUNCE = Duration.ofMillis(5);

    final BootstrapConfig boot;
    final Drivers drivers;
    final Clock clock;
    final FleetPaths paths;
    private final LastGoodConfig lastGood;
    final Reconfigurer reconfigurer;
    private final CountDownLatch firstApply = new CountDownLatch(1);
    private final AgentViews views = new AgentViews(this);
    private final AgentHealth health = new AgentHealth(this);
    CuratorFramework zk;
    TlsDiagnosis tlsDiagnosis;
    Session session;
    HardwareLocks locks;
    final Pi4jBuses buses = new Pi4jBuses(java.nio.file.Path.of("/dev"));
    Registration registration;
    Journal journal;
    long recovered;
    AdminServer admin;
    dev.meerkat.agent.metrics.MetricsEndpoint metrics; // only when configured: the Prometheus client is not even loaded otherwise
    MqttSecurity mqttSecurity;
    volatile Bridge outbox; // readings to the broker, in the format publish.format names
    volatile HomeAssistantDiscovery homeAssistant; // made with the outbox; publishes only while discovery is on
    Sampler sampler;
    ConfigWatch watch;
    StatusReporter status;
    RolloutCoordinator rollouts;
    java.util.concurrent.ScheduledExecutorService rolloutSteps; // the rollout steps' thread, there while a rollout has steps to take
    Election election;
    Candidacy candidacy;
    FirmwareUpdater firmware;
    final String runningFirmware = FirmwareUpdater.running(AgentVersion.get());
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
        admin = AdminServer.start(boot.adminSocket(), Map.of("status", a -> views.status(), "config", a -> views.config(),
                "read", views::readNow));
        if (boot.metrics().isPresent()) metrics = dev.meerkat.agent.metrics.MetricsEndpoint.start(boot.metrics().get(), views::status, clock);
        // The journal's segment size follows from its default bound; the config's bounds apply with the first config.
        var buffer = AgentSettings.DEFAULTS.buffer();
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
        status = new StatusReporter(new StatusWriter(zk, paths.status(), paths.members()), views::statusReport, views::statusWritten);
        locks = new HardwareLocks(zk, session, boot.zookeeper().root());
        registration = new Registration(zk, paths.member(), memberInfo(), Optional.of(boot.storageDir().resolve("session")));
        registration.start(session);
        // A ZooKeeper outage shows on the retained status topic too (STATUS= and meerkat status read the session).
        session.listen(Session.Listener.onEveryChange(this::zooKeeperChanged));
        // The fleet's election; while this agent leads, it drives the fleet's rollouts.
        rollouts = new RolloutCoordinator(zk, paths, clock, this::healthTimeout, Duration.ofSeconds(1), rolloutSteps = RolloutCoordinator.stepThread());
        election = new Election(zk, paths.election(), boot.device().id(), rollouts);
        // Only election.candidates agents stand (docs/scaling.md); the others watch for a free slot.
        candidacy = new Candidacy(zk, paths.candidates(), boot.device().id(), AgentSettings.DEFAULTS.election().candidates(), election);
        candidacy.start(session);
        firmware = new FirmwareUpdater(zk, paths, boot.firmware(), boot.storageDir(), FirmwareUpdater.versionsDir(), runningFirmware,
                clock, health::problem, () -> restartRequest.run());
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
        return (c == null ? AgentSettings.DEFAULTS : c.agent()).rollout().healthTimeout();
    }

    /** Applies a built config (on the config watch's thread, or at start), then saves and reports. */
    private synchronized void apply(ConfigLayers.Result result, boolean fromZooKeeper) {
        if (closed) return;
        Reconfigurer.Outcome outcome = reconfigurer.apply(result);
        if (homeAssistant != null && reconfigurer.running() != null) homeAssistant.update(reconfigurer.running(), topicPrefix(reconfigurer.running()));
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
        outbox = Bridges.make(this, config);
        delivery(config);
        outbox.zooKeeper(session.connected());
        outbox.start();
        sampler = new Sampler(drivers, new DriverContext(clock, boot.device().id(), buses), journal::nextSeq, this::publish,
                this::statusChanged, locks::acquire, new BusLocks(BusLocks.defaultDir(boot.storageDir().resolve("bus-locks"))));
    }

    private void zooKeeperChanged() {
        Bridge o = outbox;
        if (o != null) o.zooKeeper(session.connected());
    }

    /** The journal's bounds and the outbox's batching, from the agent settings. */
    private void delivery(EffectiveConfig config) {
        if (!outbox.format().equals(config.agent().publish().format())) Bridges.swap(this, config);
        var b = config.agent().buffer();
        journal.bounds(b.maxBytes(), b.maxAge(), b.onFull().equals("drop-newest"));
        journal.syncInterval(b.syncInterval());
        if (candidacy != null) candidacy.candidates(config.agent().election().candidates());
        var batch = config.agent().publish().batch();
        outbox.batching(batch.maxMessages(), batch.maxDelay());
    }

    String topicPrefix(EffectiveConfig config) {
        return config.agent().mqtt().topicPrefix() + "/" + boot.device().fleet() + "/" + boot.device().id();
    }

    void statusChanged() {
        if (status != null) status.update();
    }

    private void publish(SensorRunner.Taken t) {
        EffectiveConfig config = reconfigurer.running();
        Reading r = new Reading(boot.device().id(), t.sensor().id(), t.seq(), t.ts(), t.sample().values(),
                t.sample().units(), t.lockToken());
        outbox.offer(r, topicPrefix(config) + "/sensors/" + t.sensor().id(), t.sensor().qosOr(config.agent().mqtt().qos()));
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

    /** The agent's own loops, which systemd's watchdog waits on ({@link AgentHealth#probes}). */
    public List<ServiceNotifier.Probe> probes() {
        return health.probes();
    }

    /** One line for systemd's STATUS, from memory ({@link AgentHealth#summary}). */
    public String summary() {
        return health.summary();
    }

    /** The delivery accounting of the status ({@link AgentViews#delivery}). */
    public StatusReport.Delivery delivery() {
        return views.delivery();
    }

    public Map<String, SensorRunner> sensors() {
        return sampler == null ? Map.of() : sampler.sensors();
    }

    /**
     * The clean stop, in the order and with the bounds of {@link AgentStop}: never longer than a few
     * seconds, whatever hangs. Safe to call more than once, and after a failed or interrupted {@link #start()}.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        AgentStop.stop(this);
    }
}
