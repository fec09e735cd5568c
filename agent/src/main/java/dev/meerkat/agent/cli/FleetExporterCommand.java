package dev.meerkat.agent.cli;

import dev.meerkat.agent.metrics.FleetExporter;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meerkat fleet exporter --config ops.yaml [--fleet F ...] [--listen HOST:PORT]}: serves the
 * fleets' figures from ZooKeeper to Prometheus ({@link FleetExporter}) until SIGTERM or SIGINT.
 * Runs anywhere with a bootstrap config's {@code zookeeper} section (TLS and credentials as the
 * other operator commands); the package has it as {@code meerkat-fleet-exporter.service}.
 */
@Command(name = "exporter", mixinStandardHelpOptions = true,
        description = {"Serves the fleets' figures from ZooKeeper to Prometheus at /metrics (operator):",
                "devices online, config versions applied against the latest, buffers, drops, rollouts."})
final class FleetExporterCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "Bootstrap config; its zookeeper section is used (default: ${DEFAULT-VALUE}).")
    Path config = BootstrapConfig.DEFAULT_PATH;

    @Option(names = "--fleet", paramLabel = "F", description = "A fleet to export; again for more (default: every fleet under the root).")
    List<String> fleets = new ArrayList<>();

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Where to serve /metrics (default: ${DEFAULT-VALUE}).")
    String listen = "127.0.0.1:9465";

    @Override
    public Integer call() throws Exception {
        String command = "meerkat fleet exporter";
        Optional<BootstrapConfig.Metrics> at = BootstrapConfig.Metrics.listenAt(listen);
        if (at.isEmpty()) {
            System.err.println(command + ": --listen must be HOST:PORT with a port from 1 to 65535, like 127.0.0.1:9465, got \"" + listen + "\"");
            return Main.USAGE;
        }
        for (String f : fleets) {
            if (!BootstrapConfig.NAME.matcher(f).matches()) {
                System.err.println(command + ": \"" + f + "\" is not a valid fleet name");
                return Main.USAGE;
            }
        }
        BootstrapConfig.ZooKeeper zk;
        try {
            zk = BootstrapConfig.loadZooKeeper(config);
        } catch (ConfigException e) {
            System.err.println(command + ": " + e.getMessage());
            return Main.FAILED;
        }
        var connected = Bootstrap.connect(zk, command);
        if (connected.isEmpty()) return Main.UNREACHABLE;
        CountDownLatch stop = new CountDownLatch(1);
        try (CuratorFramework client = connected.get();
             FleetExporter exporter = FleetExporter.start(client, zk.root(), fleets, at.get())) {
            StopSignals.handle(signal -> stop.countDown());
            System.err.println(command + ": serving " + (fleets.isEmpty() ? "every fleet" : "fleets " + String.join(", ", fleets))
                    + " at http://" + at.get() + "/metrics");
            stop.await();
        } catch (java.io.IOException e) {
            System.err.println(command + ": " + e.getMessage());
            return Main.FAILED;
        }
        return Main.OK;
    }
}
