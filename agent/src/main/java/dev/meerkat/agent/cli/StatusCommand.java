package dev.meerkat.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meerkat status [--json]}: the running agent, through its admin socket (SPEC §9). Exit 0
 * when it is healthy, 1 with the problems listed when not (not registered, a server not connected,
 * config errors, a sensor not ok, readings dropped in the last 24 hours (counts are kept across
 * restarts) or a journal error), 3 when no agent answers.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"The running agent: ZooKeeper session and registration, applied config, sensors, MQTT and its buffer.",
                "Exit code 0 when healthy, 1 when not (the problems are listed), 3 when no agent answers."})
final class StatusCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "Bootstrap config, for the admin socket (default: ${DEFAULT-VALUE}).")
    Path config = BootstrapConfig.DEFAULT_PATH;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Bootstrap.Answer answer = Bootstrap.ask(config, "meerkat status", "status");
        if (answer.json() == null) return answer.code();
        JsonNode s = answer.json();
        List<String> problems = problems(s);
        if (json) {
            System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(s));
        } else {
            print(s, problems);
        }
        return problems.isEmpty() ? Main.OK : Main.FAILED;
    }

    /** How long after a drop the agent counts as unhealthy for it. */
    static final java.time.Duration DROPS_MATTER_FOR = java.time.Duration.ofHours(24);

    /** A drop within {@link #DROPS_MATTER_FOR}; an agent that does not say when (an older one) counts any. */
    static boolean droppedRecently(JsonNode lastDroppedAt, java.time.Instant now) {
        if (!lastDroppedAt.isTextual()) return true;
        try {
            return java.time.Instant.parse(lastDroppedAt.asText()).isAfter(now.minus(DROPS_MATTER_FOR));
        } catch (java.time.format.DateTimeParseException e) {
            return true;
        }
    }

    static List<String> problems(JsonNode s) {
        List<String> p = new ArrayList<>();
        JsonNode zk = s.path("zookeeper");
        if (!zk.path("connected").asBoolean()) p.add("ZooKeeper not connected");
        if (!zk.path("registered").asBoolean()) {
            p.add("not registered" + (zk.path("memberHeldBy").isTextual() ? " (the member znode is held by session "
                    + zk.path("memberHeldBy").asText() + ": another agent with this device id?)" : ""));
        }
        if (s.path("configProblem").isTextual()) p.add(s.path("configProblem").asText());
        if (s.path("metricsProblem").isTextual()) p.add(s.path("metricsProblem").asText());
        if (s.path("config").isNull() || s.path("config").isMissingNode()) {
            p.add("no config applied yet");
        } else if (s.path("config").path("errors").size() > 0) {
            p.add(s.path("config").path("errors").size() + " config error(s)");
        }
        s.path("sensors").properties().forEach(e -> {
            if (!"ok".equals(e.getValue().path("state").asText())) p.add("sensor " + e.getKey() + " " + e.getValue().path("state").asText());
        });
        JsonNode mqtt = s.path("mqtt");
        if (!mqtt.isMissingNode() && !mqtt.path("connected").asBoolean()) p.add("MQTT not connected");
        // The counts are kept across restarts; a drop makes the agent unhealthy for a day after it.
        if (mqtt.path("dropped").size() > 0 && droppedRecently(mqtt.path("lastDroppedAt"), java.time.Instant.now())) {
            p.add("readings dropped (the last at " + mqtt.path("lastDroppedAt").asText() + "): " + mqtt.path("dropped"));
        }
        if (mqtt.path("journalError").isTextual()) p.add("journal: " + mqtt.path("journalError").asText());
        return p;
    }

    private static void print(JsonNode s, List<String> problems) {
        JsonNode zk = s.path("zookeeper"), c = s.path("config"), mqtt = s.path("mqtt");
        System.out.printf("%s (fleet %s), agent %s%n", s.path("device").asText(), s.path("fleet").asText(), s.path("agentVersion").asText());
        System.out.printf("zookeeper  %s, session %s (timeout %s ms), %s%n", zk.path("connected").asBoolean() ? "connected" : "NOT connected",
                zk.path("session").asText("-"), zk.path("sessionTimeoutMs").asText("-"), zk.path("registered").asBoolean() ? "registered" : "NOT registered");
        if (c.isObject()) {
            System.out.printf("config     fleet version %s, device version %s, %s, applied %s, %d error(s)%n", c.path("fleetVersion").asText(),
                    c.path("deviceVersion").asText(), c.path("digest").asText(), c.path("appliedAt").asText(), c.path("errors").size());
            for (JsonNode e : c.path("errors")) {
                System.out.printf("           %s %s: %s%n", e.path("znode").asText(), e.path("path").asText(), e.path("message").asText());
            }
        }
        if (mqtt.isObject()) {
            System.out.printf("mqtt       %s, buffered %d%s, enqueued %d, sent %d, acknowledged %d%n",
                    mqtt.path("connected").asBoolean() ? "connected" : "NOT connected", mqtt.path("buffered").asLong(),
                    mqtt.path("oldestBufferedAt").isTextual() ? " (oldest " + mqtt.path("oldestBufferedAt").asText() + ")" : "",
                    mqtt.path("enqueued").asLong(), mqtt.path("sent").asLong(), mqtt.path("acknowledged").asLong());
            // Not a problem now, an explanation: a consumer sees these gaps in the seqs.
            mqtt.path("seqGaps").properties().forEach(e -> System.out.printf("           sensor %s: %s%n", e.getKey(), e.getValue().asText()));
        }
        JsonNode publish = s.path("publish");
        if (publish.isObject()) {
            JsonNode sp = publish.path("sparkplug");
            if (sp.isObject()) {
                JsonNode host = sp.path("primaryHost");
                System.out.printf("publish    sparkplug-b, group %s, edge node %s, bdSeq %s, seq %s%s%n", sp.path("groupId").asText(),
                        sp.path("edgeNodeId").asText(), sp.path("bdSeq").asText(), sp.path("seq").asText(),
                        host.isObject() ? ", primary host " + host.path("id").asText() + " " + host.path("state").asText() : "");
            } else {
                System.out.printf("publish    %s, home assistant discovery %s%n", publish.path("format").asText(),
                        publish.path("homeAssistantDiscovery").isTextual() ? "at " + publish.path("homeAssistantDiscovery").asText() : "off");
            }
        }
        JsonNode leader = s.path("leader");
        if (leader.path("leading").asBoolean()) {
            System.out.printf("leader     this agent leads its fleet (epoch %s)%n", leader.path("epoch").asText());
        } else {
            System.out.printf("leader     %s%n", leader.path("leader").isTextual() ? leader.path("leader").asText() + " leads the fleet" : "- (none known now)");
        }
        JsonNode fw = s.path("firmware");
        if (fw.isObject()) {
            System.out.printf("firmware   running %s%s%n", fw.path("running").asText("-"), fw.path("rollout").isTextual()
                    ? "; rollout " + fw.path("rollout").asText() + ": " + fw.path("target").asText() + " " + fw.path("state").asText()
                    + (fw.path("reason").isTextual() ? " (" + fw.path("reason").asText() + ")" : "") : "");
        }
        JsonNode locks = s.path("locks");
        if (locks.isObject()) {
            List<String> held = new ArrayList<>();
            locks.path("held").properties().forEach(e -> held.add(e.getKey() + " (token " + e.getValue().asText() + ")"));
            System.out.printf("locks      %s; taken %d, waits ran out %d, failed %d%n", held.isEmpty() ? "none held now" : "holding " + String.join(", ", held),
                    locks.path("acquired").asLong(), locks.path("timedOut").asLong(), locks.path("failed").asLong());
        }
        System.out.println("sensors");
        s.path("sensors").properties().forEach(e -> {
            JsonNode v = e.getValue();
            System.out.printf("  %-16s %-9s last reading %s, errors %d%s%s%n", e.getKey(), v.path("state").asText(), v.path("lastReadingAt").asText("-"),
                    v.path("errors").asLong(), v.has("lockSkips") ? ", skipped for the lock " + v.path("lockSkips").asLong() : "",
                    v.path("lastError").isTextual() ? "\n                   last error: " + v.path("lastError").asText() : "");
        });
        System.out.println(problems.isEmpty() ? "healthy" : "NOT healthy: " + String.join("; ", problems));
    }
}
