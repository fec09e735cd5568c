package dev.meerkat.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Json;
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
        Bootstrap.Answer asked = Bootstrap.ask(config, "meerkat config show", "config");
        if (asked.json() == null) return asked.code();
        JsonNode answer = asked.json();
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
