package dev.meerkat.agent.cli;

import dev.meerkat.agent.state.LastGoodConfig;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigDocument;
import dev.meerkat.config.ConfigLayer;
import dev.meerkat.config.ConfigLayers;
import dev.meerkat.config.Json;
import dev.meerkat.drivers.Drivers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meerkat config show [--effective]}: the config the agent on this gateway runs. Read from
 * the agent's own record of it ({@code storage.dir/config/last-good.json}, rewritten at each
 * apply) until the admin socket lands.
 */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = {"Show the config documents the agent on this gateway runs, or with --effective the config they make."})
final class ConfigShow implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "Bootstrap config (default: ${DEFAULT-VALUE}).")
    Path config = BootstrapConfig.DEFAULT_PATH;

    @Option(names = "--effective", description = "The effective config: the layers merged, with every default.")
    boolean effective;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        var loaded = Bootstrap.load(config, "meerkat config show");
        if (loaded.isEmpty()) return Main.FAILED;
        BootstrapConfig boot = loaded.get();
        LastGoodConfig store = new LastGoodConfig(boot.storageDir());
        Optional<LastGoodConfig.Saved> saved = store.load();
        if (saved.isEmpty()) {
            System.err.println("meerkat config show: the agent has not applied a config from ZooKeeper yet (no "
                    + store.file() + "); is it running? (meerkat run --config " + config + ")");
            return Main.UNREACHABLE;
        }
        LastGoodConfig.Saved s = saved.get();
        var result = ConfigLayers.build(s.fleet(), s.device(), Drivers.load());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("device", boot.device().id());
        out.put("fleet", boot.device().fleet());
        out.put("fleetVersion", result.config().fleetVersion());
        out.put("deviceVersion", result.config().deviceVersion());
        out.put("digest", result.config().digest());
        out.put("savedAt", s.savedAt().toString());
        if (effective) {
            out.put("effective", EffectiveJson.of(result.config()));
        } else {
            out.put("documents", documents(s.fleet(), s.device()));
        }
        if (json) {
            System.out.println(new String(Json.write(out), StandardCharsets.UTF_8));
        } else {
            System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(out));
        }
        return Main.OK;
    }

    private static Map<String, Object> documents(ConfigLayer fleet, ConfigLayer device) throws Exception {
        Map<String, Object> docs = new LinkedHashMap<>();
        for (ConfigLayer l : new ConfigLayer[] {fleet, device}) {
            if (l.agent().isPresent()) put(docs, l.agent().get());
            for (ConfigDocument d : l.sensors().values()) put(docs, d);
        }
        return docs;
    }

    private static void put(Map<String, Object> docs, ConfigDocument d) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", d.version());
        m.put("document", Json.mapper().readTree(d.data()));
        docs.put(d.znode(), m);
    }
}
