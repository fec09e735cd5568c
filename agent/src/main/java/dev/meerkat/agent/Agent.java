package dev.meerkat.agent;

import dev.meerkat.agent.bridge.Outbox;
import dev.meerkat.agent.bridge.Reading;
import dev.meerkat.agent.bridge.SeqStore;
import dev.meerkat.agent.logging.Logging;
import dev.meerkat.agent.mqtt.MqttTransport;
import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.agent.mqtt.PahoTransport;
import dev.meerkat.agent.sampling.Sampler;
import dev.meerkat.agent.sampling.SensorRunner;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigError;
import dev.meerkat.config.ConfigLayers;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.coordination.configwatch.ConfigReader;
import dev.meerkat.coordination.registration.MemberInfo;
import dev.meerkat.coordination.registration.Registration;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.Drivers;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gateway agent: registered in ZooKeeper, running the sensors of its effective config, and
 * publishing their readings to MQTT. {@link #start()} brings the parts up in dependency order,
 * {@link #close()} takes them down in reverse, each step bounded.
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    /** How many readings the in-memory outbox holds before it drops the oldest. */
    private static final int OUTBOX_CAPACITY = 100_000;
    private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(3);

    private final BootstrapConfig boot;
    private final Drivers drivers;
    private final Clock clock;
    private final FleetPaths paths;
    private CuratorFramework zk;
    private Registration registration;
    private SeqStore seqs;
    private Outbox outbox;
    private Sampler sampler;
    private volatile EffectiveConfig config;
    private boolean closed;

    public Agent(BootstrapConfig boot, Drivers drivers, Clock clock) {
        this.boot = boot;
        this.drivers = drivers;
        this.clock = clock;
        this.paths = new FleetPaths(boot.device().fleet(), boot.device().id());
    }

    /**
     * Connects, registers, reads the effective config and starts the sensors. Waits for ZooKeeper
     * as long as it takes (logging while it waits); interrupt the calling thread to give up.
     */
    public void start() throws InterruptedException, IOException, MqttTransportException {
        var mqtt = boot.mqtt();
        if (mqtt.tls().isPresent() || mqtt.usernameFile().isPresent() || mqtt.passwordFile().isPresent()) {
            // Refuse rather than connect anonymously to a broker the operator meant to authenticate to.
            throw new UnsupportedOperationException(
                    "mqtt.tls, mqtt.usernameFile and mqtt.passwordFile are not supported by this version of Meerkat yet");
        }
        Files.createDirectories(boot.storageDir());
        seqs = new SeqStore(boot.storageDir());

        zk = ZooKeeperClients.create(boot.zookeeper());
        zk.start();
        while (!zk.blockUntilConnected(10, TimeUnit.SECONDS)) {
            log.warn("waiting for ZooKeeper connect={}", boot.zookeeper().connect());
        }
        registration = new Registration(zk, paths.member(), memberInfo());
        registration.start();

        config = readConfig();
        Logging.setLevel(config.agent().logLevel());

        String prefix = config.agent().mqtt().topicPrefix() + "/" + boot.device().fleet() + "/" + boot.device().id();
        MqttTransport transport = new PahoTransport(boot.mqtt().uri(), boot.mqttClientId(), 30);
        outbox = new Outbox(transport, prefix + "/status", config.agent().mqtt().retainStatus(),
                AgentVersion.get(), OUTBOX_CAPACITY, clock);
        outbox.start();

        sampler = new Sampler(drivers, new DriverContext(clock, boot.device().id()), seqs::next, t -> publish(prefix, t));
        sampler.start(config.sensors());

        if (!registration.awaitRegistered(Duration.ofSeconds(10))) {
            log.warn("not registered yet path={}; still trying", paths.member());
        }
        log.info("agent started device={} fleet={} sensors={} fleetVersion={} deviceVersion={}",
                boot.device().id(), boot.device().fleet(), config.sensors().keySet(),
                config.fleetVersion(), config.deviceVersion());
    }

    private EffectiveConfig readConfig() throws InterruptedException {
        ConfigReader reader = new ConfigReader(zk);
        while (true) {
            try {
                var result = ConfigLayers.build(reader.read(paths.fleetConfig()), reader.read(paths.deviceConfig()), drivers);
                for (ConfigError e : result.errors()) log.error("config rejected: {}", e);
                return result.config();
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                log.warn("cannot read config from ZooKeeper yet, retrying: {}", e.toString());
                Thread.sleep(1000);
            }
        }
    }

    private void publish(String prefix, SensorRunner.Taken t) {
        Reading r = new Reading(boot.device().id(), t.sensor().id(), t.seq(), t.ts(), t.sample().values(),
                t.sample().units(), OptionalLong.empty());
        outbox.offer(r, prefix + "/sensors/" + t.sensor().id(), t.sensor().qosOr(config.agent().mqtt().qos()));
    }

    private MemberInfo memberInfo() {
        String version = AgentVersion.get();
        return new MemberInfo(boot.device().id(), boot.device().fleet(), version, version, HostFacts.hostName(),
                HostFacts.addresses(), clock.instant().toString(), HostFacts.capabilities());
    }

    public String deviceId() {
        return boot.device().id();
    }

    public EffectiveConfig config() {
        return config;
    }

    public boolean registered() {
        return registration != null && registration.isRegistered();
    }

    public boolean mqttConnected() {
        return outbox != null && outbox.connected();
    }

    public Map<String, SensorRunner> sensors() {
        return sampler == null ? Map.of() : sampler.sensors();
    }

    public long acknowledged() {
        return outbox == null ? 0 : outbox.acknowledged();
    }

    /**
     * The clean stop: sensors first, then the buffer is flushed (bounded), the member znode deleted
     * at once, offline published, and the connections closed. Safe to call more than once, and
     * after a failed or interrupted {@link #start()}.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (sampler != null) sampler.close();
        if (outbox != null) {
            try {
                if (!outbox.flush(FLUSH_TIMEOUT)) {
                    log.warn("stopping with {} readings unacknowledged after {}ms", outbox.depth(), FLUSH_TIMEOUT.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (registration != null) registration.close();
        if (outbox != null) outbox.close();
        if (zk != null) zk.close();
        if (seqs != null) seqs.close();
        log.info("agent stopped device={}", boot.device().id());
    }
}
