package dev.meerkat.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meerkat.agent.admin.AdminClient;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meerkat config show [--effective]}: the config the agent on this gateway runs, asked of
 * the running agent through its admin socket.
 */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = {"Show the config documents the agent on this gateway runs, or with --effective the config they make."})
final class ConfigShow implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "Bootstrap config (default: ${DEFAULT-VALUE}).")
    Path config = BootstrapConfig.DEFAULT_PATH;

    @Option(names = "--effective", description = "The effective config: the layers merged, with every default.")
    boolean effective;

    @Option(names = "--json", description = "Print JSON on one line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        var loaded = Bootstrap.load(config, "meerkat config show");
        if (loaded.isEmpty()) return Main.FAILED;
        BootstrapConfig boot = loaded.get();
        JsonNode answer;
        try {
            answer = AdminClient.call(boot.adminSocket(), "config");
        } catch (IOException e) {
            System.err.println("meerkat config show: the agent does not answer on " + boot.adminSocket()
                    + "; is it running? (meerkat run --config " + config + ")");
            return Main.UNREACHABLE;
        }
        if (!answer.has("digest")) {
            System.err.println("meerkat config show: the agent has no config yet (waiting for ZooKeeper)");
            return Main.UNREACHABLE;
        }
        ObjectNode out = (ObjectNode) answer;
        if (effective) out.remove("documents");
        else out.remove("effective");
        System.out.println(json ? new String(Json.write(out), java.nio.charset.StandardCharsets.UTF_8)
                : Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(out));
        return Main.OK;
    }
}
