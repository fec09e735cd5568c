package dev.meerkat.sandbox;

import dev.meerkat.agent.Agent;
import dev.meerkat.agent.cli.MeerkatCommand;
import dev.meerkat.agent.cli.StopSignals;
import dev.meerkat.agent.logging.Logging;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Durations;
import dev.meerkat.drivers.Drivers;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meerkat sandbox}: everything on this machine, in one process, to try Meerkat with no
 * hardware and no servers. The fleet {@code sandbox} is seeded with two simulated sensors; gw-2
 * switches one off and gw-3 samples it faster, to show the device layer at work.
 */
@Command(name = "sandbox", mixinStandardHelpOptions = true,
        description = {"Start an embedded ZooKeeper, an embedded MQTT broker and simulated gateways, and show them live.",
                "Point any ZooKeeper or MQTT client (or meerkat's own commands) at the addresses it prints. Ctrl-C stops it."})
public final class SandboxCommand implements Callable<Integer>, MeerkatCommand {
    static final String FLEET = "sandbox";

    @Option(names = "--gateways", description = "How many simulated gateways (default: ${DEFAULT-VALUE}).")
    int gateways = 3;

    @Option(names = "--zk-port", description = "ZooKeeper client port (default: 2181 if free, else any free port).")
    int zkPort;

    @Option(names = "--mqtt-port", description = "MQTT port (default: 1883 if free, else any free port).")
    int mqttPort;

    @Option(names = "--dir", description = "Where the servers and gateways keep their files (default: a new temporary directory, removed at exit).")
    Path dir;

    @Option(names = "--duration", description = "Stop by itself after this long (500ms, 30s, 5m); default: run until Ctrl-C.")
    String duration;

    @Override
    public String name() {
        return "sandbox";
    }

    @Override
    public Object command() {
        return new SandboxCommand();
    }

    @Override
    public Integer call() throws Exception {
        if (gateways < 1 || gateways > 100) {
            System.err.println("meerkat sandbox: --gateways must be between 1 and 100, got " + gateways);
            return 2;
        }
        Duration runFor = null;
        if (duration != null) {
            try {
                runFor = Durations.parse(duration);
            } catch (IllegalArgumentException e) {
                System.err.println("meerkat sandbox: --duration " + e.getMessage());
                return 2;
            }
        }
        Logging.setUp("warn");
        boolean temporary = dir == null;
        Path work = temporary ? Files.createTempDirectory("meerkat-sandbox-") : dir;
        CountDownLatch stop = new CountDownLatch(1);
        StopSignals.handle(signal -> stop.countDown());
        PrintStream out = System.out;
        List<Agent> agents = new ArrayList<>();
        try (EmbeddedServers servers = EmbeddedServers.start(work, zkPort, mqttPort)) {
            out.println("ZooKeeper: " + servers.zookeeperConnect() + "  (root /meerkat)");
            out.println("MQTT:      " + servers.mqttUri() + "  (topics meerkat/" + FLEET + "/#)");
            out.println("Files:     " + work);
            seed(servers.zookeeperConnect());
            try (LiveView view = new LiveView(servers.mqttUri(), FLEET)) {
                for (int i = 1; i <= gateways; i++) {
                    Agent a = new Agent(bootstrap(servers, work, "gw-" + i), Drivers.load(), Clock.systemUTC());
                    agents.add(a);
                    a.start();
                }
                out.println("Running " + gateways + " simulated gateways of fleet '" + FLEET + "'. Ctrl-C stops.");
                view.run(agents, out, stop, runFor);
            } finally {
                agents.forEach(Agent::close);
            }
        } finally {
            if (temporary) deleteTree(work);
        }
        out.println("Sandbox stopped.");
        return 0;
    }

    private static BootstrapConfig bootstrap(EmbeddedServers servers, Path work, String id) {
        return new BootstrapConfig(new BootstrapConfig.Device(id, FLEET),
                new BootstrapConfig.ZooKeeper(servers.zookeeperConnect(), "/meerkat", Duration.ofSeconds(10),
                        Optional.empty(), Optional.empty()),
                new BootstrapConfig.Mqtt(URI.create(servers.mqttUri()), id, Optional.empty(), Optional.empty(), Optional.empty()),
                work.resolve(id), work.resolve(id).resolve("admin.sock"));
    }

    /** The fleet's config, written once (an existing one, from an earlier run with --dir, is kept). */
    private static void seed(String connect) throws Exception {
        try (CuratorFramework c = CuratorFrameworkFactory.builder().connectString(connect).namespace("meerkat")
                .retryPolicy(new RetryOneTime(500)).build()) {
            c.start();
            if (!c.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IOException("embedded ZooKeeper did not answer");
            String base = "/fleets/" + FLEET;
            if (c.checkExists().forPath(base + "/config") != null) return;
            write(c, base + "/config/agent", "{\"logLevel\": \"warn\"}");
            write(c, base + "/config/sensors/climate", """
                    {"driver": "simulated", "interval": "1s",
                     "settings": {"values": {
                       "temperature": {"base": 21.0, "amplitude": 1.5, "period": "2m", "noise": 0.1, "unit": "Cel"},
                       "humidity": {"base": 45.0, "amplitude": 5.0, "period": "3m", "noise": 0.5, "unit": "%RH"}}}}""");
            write(c, base + "/config/sensors/light", """
                    {"driver": "simulated", "interval": "2s",
                     "settings": {"values": {"illuminance": {"base": 300, "amplitude": 200, "period": "1m", "noise": 5, "unit": "lx"}}}}""");
            write(c, base + "/devices/gw-2/config/sensors/light", "{\"enabled\": false}");
            write(c, base + "/devices/gw-3/config/sensors/light", "{\"interval\": \"500ms\"}");
        }
    }

    private static void write(CuratorFramework c, String path, String json) throws Exception {
        c.create().creatingParentsIfNeeded().forPath(path, json.getBytes(StandardCharsets.UTF_8));
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
