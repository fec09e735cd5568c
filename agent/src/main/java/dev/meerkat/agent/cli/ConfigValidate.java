package dev.meerkat.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigDocument;
import dev.meerkat.config.ConfigError;
import dev.meerkat.config.ConfigException;
import dev.meerkat.config.ConfigLayer;
import dev.meerkat.config.ConfigLayers;
import dev.meerkat.config.Json;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.Drivers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meerkat config validate FILE}: offline, exit 1 with every error. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Check a config document offline: a sensor document, an agent document, or a bootstrap file.",
                "Exit code 0 when valid, 1 with every error (each with its JSON path) when not."})
final class ConfigValidate implements Callable<Integer> {
    enum Kind { auto, sensor, agent, bootstrap }

    @Parameters(paramLabel = "FILE", description = "The document (.json), or a bootstrap file (.yaml, .yml).")
    Path file;

    @Option(names = "--kind", description = "sensor, agent or bootstrap (default: ${DEFAULT-VALUE}: .yaml/.yml is a "
            + "bootstrap file; a JSON object with \"driver\" or \"enabled\" a sensor document; else an agent document).")
    Kind kind = Kind.auto;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        List<ConfigError> errors = new ArrayList<>();
        Kind k = kind == Kind.auto ? guess() : kind;
        if (k == Kind.bootstrap) {
            try {
                BootstrapConfig.load(file);
            } catch (ConfigException e) {
                errors.addAll(e.errors());
            }
        } else {
            errors.addAll(check(file.toString(), readBytes(errors), k == Kind.sensor, sensorId()));
        }
        print(k, errors);
        return errors.isEmpty() ? Main.OK : Main.FAILED;
    }

    /** The errors of one document as the agent would find them, standing alone in the fleet layer. */
    static List<ConfigError> check(String source, byte[] data, boolean sensor, String id) {
        if (data == null) return List.of();
        ConfigDocument doc = new ConfigDocument(source, data, 0);
        ConfigLayer layer = sensor ? ConfigLayer.of(Optional.empty(), Map.of(id, doc)) : ConfigLayer.of(Optional.of(doc), Map.of());
        return ConfigLayers.build(layer, ConfigLayer.empty(), Drivers.load()).errors();
    }

    private byte[] readBytes(List<ConfigError> errors) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            errors.add(new ConfigError(file.toString(), "$", "cannot be read: " + e.getMessage()));
            return null;
        }
    }

    private Kind guess() throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".yaml") || name.endsWith(".yml")) return Kind.bootstrap;
        try {
            JsonNode n = Json.mapper().readTree(Files.readAllBytes(file));
            return n != null && (n.has("driver") || n.has("enabled")) ? Kind.sensor : Kind.agent;
        } catch (IOException e) {
            return Kind.sensor; // it does not parse: any kind reports that
        }
    }

    /** The sensor id is the file name without its extension, as the znode name would be. */
    private String sensorId() {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String id = dot > 0 ? name.substring(0, dot) : name;
        return SensorConfig.ID.matcher(id).matches() ? id : "sensor";
    }

    private void print(Kind k, List<ConfigError> errors) {
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", file.toString());
            m.put("kind", k.name());
            m.put("valid", errors.isEmpty());
            m.put("errors", errors.stream().map(e -> Map.of("source", e.source(), "path", e.path(), "message", e.message())).toList());
            System.out.println(new String(Json.write(m), java.nio.charset.StandardCharsets.UTF_8));
        } else if (errors.isEmpty()) {
            System.out.println(file + ": a valid " + k + " document");
        } else {
            System.out.println(file + ": not a valid " + k + " document (" + errors.size() + (errors.size() == 1 ? " error" : " errors") + ")");
            for (ConfigError e : errors) System.out.println("  " + e.path() + ": " + e.message());
        }
    }
}
