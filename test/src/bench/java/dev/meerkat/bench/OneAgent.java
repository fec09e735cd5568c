package dev.meerkat.bench;

import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.MosquittoBroker;
import dev.meerkat.test.fixtures.ProcessEnsemble;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.ZooKeeper;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * One agent process through the launcher, as a gateway runs it, for the sections that measure
 * what one agent costs ({@link RestBenchmark}, {@link FlashBenchmark}): a fleet of its own with
 * {@code sensors} simulated sensors at {@code interval}, its bootstrap config, and a subscriber
 * that counts the readings and payload bytes the broker delivers. {@link #start} returns once the
 * first reading has arrived.
 */
final class OneAgent implements AutoCloseable {
    final AgentProcess process;
    private final MqttClient sub;
    private final ZooKeeper operator;
    private final AtomicLong readings, payload;

    private OneAgent(AgentProcess process, MqttClient sub, ZooKeeper operator, AtomicLong readings, AtomicLong payload) {
        this.process = process;
        this.sub = sub;
        this.operator = operator;
        this.readings = readings;
        this.payload = payload;
    }

    /**
     * @param name the fleet's and the device's name ({@code gw-NAME})
     * @param agentDoc the fleet's agent document, or null for none (the defaults)
     * @param state the agent's {@code storage.dir}
     */
    static OneAgent start(ProcessEnsemble ensemble, MosquittoBroker broker, Path work, String name, int sensors, String interval,
                          String agentDoc, Path state) throws Exception {
        return start(ensemble, broker, work, name, sensors, interval, agentDoc, state, "", java.util.Map.of());
    }

    /**
     * @param sections more top-level sections of the bootstrap config ({@code metrics: ...}), ending in a line break
     * @param env more environment for the launcher ({@code MEERKAT_JAVA_OPTS})
     */
    static OneAgent start(ProcessEnsemble ensemble, MosquittoBroker broker, Path work, String name, int sensors, String interval,
                          String agentDoc, Path state, String sections, java.util.Map<String, String> env) throws Exception {
        Files.createDirectories(work);
        String root = "/" + name + "-" + System.nanoTime(), device = "gw-" + name;
        FleetPaths fp = new FleetPaths(root, name, device);
        ZooKeeper operator = ZooKeeperBaseline.connect(ensemble.connectString());
        MqttClient sub = new MqttClient(broker.uri(), name + "-sub-" + System.nanoTime(), new MemoryPersistence());
        AgentProcess process = null;
        try {
            for (int i = 1; i <= sensors; i++) {
                ConfigFanOutBenchmark.createAll(operator, fp.fleetConfig() + "/sensors/s" + i,
                        ("{\"driver\":\"simulated\",\"interval\":\"" + interval + "\"}").getBytes(StandardCharsets.UTF_8));
            }
            if (agentDoc != null) {
                ConfigFanOutBenchmark.createAll(operator, FleetPaths.agentDoc(fp.fleetConfig()), agentDoc.getBytes(StandardCharsets.UTF_8));
            }
            Path yaml = work.resolve("agent.yaml");
            Files.writeString(yaml, String.join("\n",
                    "device: { id: " + device + ", fleet: " + name + " }",
                    "zookeeper: { connect: \"" + ensemble.connectString() + "\", root: " + root + ", sessionTimeout: 15s }",
                    "mqtt: { uri: \"" + broker.uri() + "\", clientId: " + device + " }",
                    "storage: { dir: " + state + " }",
                    "admin: { socket: " + work.resolve("admin.sock") + " }", sections));
            MqttConnectOptions o = new MqttConnectOptions();
            o.setCleanSession(true);
            sub.connect(o);
            AtomicLong readings = new AtomicLong(), payload = new AtomicLong();
            sub.subscribe("meerkat/" + name + "/" + device + "/sensors/#", 1, (t, msg) -> {
                readings.addAndGet(RestBenchmark.readings(msg.getPayload()));
                payload.addAndGet(msg.getPayload().length);
            });
            process = AgentProcess.start(work.resolve("agent.log"), env, "run", "--config", yaml.toString());
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (readings.get() == 0 && System.nanoTime() < end) {
                if (!process.alive()) throw new IllegalStateException("the agent exited: " + process.log());
                Thread.sleep(10);
            }
            if (readings.get() == 0) throw new IllegalStateException("no reading within 60 s: " + process.log());
            return new OneAgent(process, sub, operator, readings, payload);
        } catch (Exception e) {
            if (process != null) process.close();
            close(sub, operator);
            throw e;
        }
    }

    /** Readings delivered to the subscriber so far (a batch counts its readings). */
    long readings() {
        return readings.get();
    }

    /** Payload bytes delivered to the subscriber so far. */
    long payloadBytes() {
        return payload.get();
    }

    /** Stops the agent with SIGTERM; its exit code. */
    int stop() throws Exception {
        process.signal("TERM");
        return process.waitFor(Duration.ofSeconds(60));
    }

    @Override
    public void close() throws Exception {
        process.close();
        close(sub, operator);
    }

    private static void close(MqttClient sub, ZooKeeper operator) throws Exception {
        if (sub.isConnected()) sub.disconnect();
        sub.close();
        operator.close();
    }
}
