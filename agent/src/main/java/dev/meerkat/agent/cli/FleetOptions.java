package dev.meerkat.agent.cli;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options of the operator commands that act on one fleet ({@code fleet list}, {@code rollout
 * ...}): the bootstrap config whose {@code zookeeper} section they use, the fleet (by default the
 * config's {@code device.fleet}), and JSON output.
 */
final class FleetOptions {
    @Option(names = "--config", paramLabel = "FILE",
            description = "Bootstrap config; its zookeeper section is used, and its device.fleet when --fleet is not given (default: ${DEFAULT-VALUE}).")
    Path config = BootstrapConfig.DEFAULT_PATH;

    @Option(names = "--fleet", paramLabel = "F", description = "The fleet (default: the bootstrap config's device.fleet).")
    String fleet;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    /** What {@link #resolve} read: the servers, or the exit code when they could not be read. */
    record Resolved(BootstrapConfig.ZooKeeper zookeeper, int exitCode) {}

    /**
     * Reads the config's {@code zookeeper} section and settles the fleet (given, or the config's);
     * says what is wrong, prefixed by {@code command}, and returns the exit code when it cannot.
     */
    Resolved resolve(String command) {
        BootstrapConfig.ZooKeeper zk;
        try {
            zk = BootstrapConfig.loadZooKeeper(config);
            if (fleet == null) fleet = BootstrapConfig.fleetOf(config).orElse(null);
        } catch (ConfigException e) {
            System.err.println(command + ": " + e.getMessage());
            return new Resolved(null, Main.FAILED);
        }
        if (fleet == null) {
            System.err.println(command + ": which fleet? Give --fleet F (" + config + " names no device.fleet)");
            return new Resolved(null, Main.USAGE);
        }
        if (!BootstrapConfig.NAME.matcher(fleet).matches()) {
            System.err.println(command + ": \"" + fleet + "\" is not a valid fleet name");
            return new Resolved(null, Main.USAGE);
        }
        return new Resolved(zk, Main.OK);
    }
}
