package dev.meerkat.agent.cli;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigError;
import dev.meerkat.config.ConfigException;
import java.nio.file.Path;
import java.util.Optional;

/** Loading the bootstrap config for a command: on errors, every one printed, and nothing returned. */
final class Bootstrap {
    private Bootstrap() {}

    static Optional<BootstrapConfig> load(Path file, String command) {
        try {
            return Optional.of(BootstrapConfig.load(file));
        } catch (ConfigException e) {
            System.err.println(command + ": the bootstrap config is not valid:");
            for (ConfigError err : e.errors()) System.err.println("  " + err);
            return Optional.empty();
        }
    }
}
