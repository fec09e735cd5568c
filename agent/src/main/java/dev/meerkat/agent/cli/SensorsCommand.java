package dev.meerkat.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Json;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meerkat sensors list|read S} (SPEC §9), through the running agent's admin socket. */
@Command(name = "sensors", mixinStandardHelpOptions = true, description = "The sensors of the agent on this gateway.",
        subcommands = {SensorsCommand.List.class, SensorsCommand.Read.class})
final class SensorsCommand {
    private SensorsCommand() {}

    abstract static class Base implements Callable<Integer> {
        @Option(names = "--config", paramLabel = "FILE", description = "Bootstrap config, for the admin socket (default: ${DEFAULT-VALUE}).")
        Path config = BootstrapConfig.DEFAULT_PATH;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        /** The agent's answer to {@code request}, or null after saying why (exit code in {@link #code}). */
        JsonNode ask(String name, String request) {
            Bootstrap.Answer a = Bootstrap.ask(config, "meerkat sensors " + name, request);
            code = a.code();
            return a.json();
        }

        int code;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Every sensor: driver, interval, state, last reading, errors.")
    static final class List extends Base {
        @Override
        public Integer call() throws Exception {
            JsonNode status = ask("list", "status");
            if (status == null) return code;
            JsonNode config = ask("list", "config");
            if (config == null) return code;
            JsonNode effective = config.path("effective").path("sensors");
            if (json) {
                var out = Json.mapper().createObjectNode();
                status.path("sensors").properties().forEach(e -> {
                    var one = Json.mapper().createObjectNode();
                    one.setAll((com.fasterxml.jackson.databind.node.ObjectNode) effective.path(e.getKey()).deepCopy());
                    one.setAll((com.fasterxml.jackson.databind.node.ObjectNode) e.getValue().deepCopy());
                    out.set(e.getKey(), one);
                });
                System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(out));
                return Main.OK;
            }
            System.out.printf("%-16s %-12s %-9s %-9s %-26s %s%n", "SENSOR", "DRIVER", "INTERVAL", "STATE", "LAST READING", "ERRORS");
            status.path("sensors").properties().forEach(e -> System.out.printf("%-16s %-12s %-9s %-9s %-26s %d%n", e.getKey(),
                    effective.path(e.getKey()).path("driver").asText("-"), effective.path(e.getKey()).path("interval").asText("-"),
                    e.getValue().path("state").asText(), seconds(e.getValue().path("lastReadingAt").asText("-")), e.getValue().path("errors").asLong()));
            return Main.OK;
        }
    }

    /** A time stamp to the second, so the columns line up ({@code --json} keeps the full one). */
    static String seconds(String ts) {
        try {
            return java.time.Instant.parse(ts).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        } catch (java.time.format.DateTimeParseException notATime) {
            return ts;
        }
    }

    @Command(name = "read", mixinStandardHelpOptions = true,
            description = {"One reading now from sensor S, between its scheduled ones; it is published like them.",
                    "Exit code 1 when the sensor gives none."})
    static final class Read extends Base {
        @Parameters(paramLabel = "S", description = "The sensor id.")
        String sensor;

        @Override
        public Integer call() throws Exception {
            JsonNode r = ask("read", "read " + sensor);
            if (r == null) return code;
            if (r.has("error")) {
                System.err.println("meerkat sensors read: " + r.path("error").asText());
                return Main.FAILED;
            }
            if (json) {
                System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(r));
                return Main.OK;
            }
            System.out.printf("%s seq %d at %s%n", r.path("sensor").asText(), r.path("seq").asLong(), r.path("ts").asText());
            r.path("values").properties().forEach(e -> System.out.printf("  %-16s %s %s%n", e.getKey(), e.getValue().asText(),
                    r.path("units").path(e.getKey()).asText("")));
            return Main.OK;
        }
    }
}
