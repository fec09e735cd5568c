package dev.meerkat.agent.cli;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Json;
import dev.meerkat.coordination.fleet.FleetView;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code meerkat fleet list [--fleet F] [--json]}: every gateway of a fleet that has a member or a
 * status znode. Needs only the bootstrap config's {@code zookeeper} section, so it runs from an
 * operator's laptop as well as from a gateway.
 */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = {"Every gateway of a fleet: online or not and since when, agent and firmware version,",
                "the config versions it applied against the latest, and its errors (operator).",
                "A version printed as 11<12 means: applied 11, the latest is 12."})
final class FleetList implements Callable<Integer> {
    private static final long READ_TIMEOUT_MS = 30_000;

    @Mixin
    FleetOptions options;

    @Override
    public Integer call() throws Exception {
        FleetOptions.Resolved resolved = options.resolve("meerkat fleet list");
        if (resolved.zookeeper() == null) return resolved.exitCode();
        BootstrapConfig.ZooKeeper zkConfig = resolved.zookeeper();
        String fleet = options.fleet;
        FleetView.Fleet view;
        var connected = Bootstrap.connect(zkConfig, "meerkat fleet list");
        if (connected.isEmpty()) return Main.UNREACHABLE;
        try (CuratorFramework zk = connected.get()) {
            try {
                view = FleetView.read(zk, zkConfig.root(), fleet, READ_TIMEOUT_MS);
            } catch (FleetView.NoSuchFleetException e) {
                System.err.println("meerkat fleet list: " + e.getMessage());
                return Main.FAILED;
            } catch (Exception e) {
                System.err.println("meerkat fleet list: reading the fleet failed: " + FleetView.cause(e));
                return Main.UNREACHABLE;
            }
        }
        if (options.json) {
            System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(toJson(view)));
        } else {
            print(view, System.out, Instant.now());
        }
        return Main.OK;
    }

    static Map<String, Object> toJson(FleetView.Fleet view) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("fleet", view.fleet());
        root.put("latestFleetVersion", view.latestFleetVersion());
        root.put("online", view.online());
        List<Object> devices = new ArrayList<>();
        for (FleetView.Device d : view.devices()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("device", d.device());
            m.put("online", d.online());
            m.put("since", d.since() == null ? null : d.since().toString());
            m.put("session", d.online() ? "0x" + Long.toHexString(d.ownerSession()) : null);
            m.put("agentVersion", d.agentVersion());
            m.put("firmware", d.firmware());
            m.put("fleetVersion", d.fleetVersion());
            m.put("latestFleetVersion", view.latestFleetVersion());
            m.put("deviceVersion", d.deviceVersion());
            m.put("latestDeviceVersion", d.latestDeviceVersion());
            m.put("upToDate", upToDate(view, d));
            m.put("mqttConnected", d.mqttConnected());
            m.put("configErrors", d.configErrors());
            m.put("sensors", d.sensors());
            m.put("problem", d.problem());
            devices.add(m);
        }
        root.put("devices", devices);
        return root;
    }

    static boolean upToDate(FleetView.Fleet view, FleetView.Device d) {
        return d.fleetVersion() != null && d.fleetVersion() == view.latestFleetVersion()
                && d.deviceVersion() != null && d.deviceVersion() == d.latestDeviceVersion();
    }

    static void print(FleetView.Fleet view, PrintStream out, Instant now) {
        out.printf("fleet %s: %d gateway%s, %d online; latest fleet config version %s%n", view.fleet(), view.devices().size(),
                view.devices().size() == 1 ? "" : "s", view.online(), version(view.latestFleetVersion()));
        if (view.devices().isEmpty()) return;
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"DEVICE", "STATE", "SINCE", "AGENT", "FIRMWARE", "FLEET CFG", "DEVICE CFG", "PROBLEMS"});
        for (FleetView.Device d : view.devices()) {
            List<String> problems = new ArrayList<>();
            if (d.problem() != null) problems.add(d.problem());
            if (!d.configErrors().isEmpty()) problems.add(d.configErrors().size() + " config error" + (d.configErrors().size() == 1 ? "" : "s"));
            problems.addAll(d.unhealthySensors());
            if (d.online() && Boolean.FALSE.equals(d.mqttConnected())) problems.add("mqtt disconnected");
            if (d.fleetVersion() == null && d.problem() == null) problems.add("no status");
            rows.add(new String[] {d.device(), d.online() ? "online" : "offline", since(d.since(), now),
                    dash(d.agentVersion()), dash(d.firmware()), applied(d.fleetVersion(), view.latestFleetVersion()),
                    applied(d.deviceVersion(), d.latestDeviceVersion()), problems.isEmpty() ? "-" : String.join(", ", problems)});
        }
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(i == r.length - 1 ? r[i] : String.format("%-" + (width[i] + 2) + "s", r[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static String applied(Long applied, long latest) {
        if (applied == null) return "-";
        return applied == latest ? version(applied) : version(applied) + "<" + version(latest);
    }

    private static String version(long v) {
        return v < 0 ? "none" : Long.toString(v);
    }

    private static String dash(String s) {
        return s == null ? "-" : s;
    }

    /** {@code 2026-11-21T15:00:00Z (3h ago)}. */
    private static String since(Instant at, Instant now) {
        if (at == null) return "-";
        Duration ago = Duration.between(at, now);
        String rel = ago.isNegative() ? "" : ago.toDays() > 0 ? ago.toDays() + "d ago" : ago.toHours() > 0 ? ago.toHours() + "h ago"
                : ago.toMinutes() > 0 ? ago.toMinutes() + "m ago" : ago.toSeconds() + "s ago";
        return at.truncatedTo(ChronoUnit.SECONDS) + (rel.isEmpty() ? "" : " (" + rel + ")");
    }
}
