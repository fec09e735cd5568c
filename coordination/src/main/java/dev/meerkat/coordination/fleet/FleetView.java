package dev.meerkat.coordination.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The operator's view of one fleet (SPEC §5): every device that has a member znode or a status
 * znode, whether it is online, since when, its versions, the config it applied against the latest,
 * and its errors. Read with asynchronous calls, all in flight at once, so that a fleet of
 * thousands is read in a few round trips' time rather than thousands.
 */
public final class FleetView {
    private FleetView() {}

    /** One znode's data and stat. */
    public record Node(byte[] data, Stat stat) {}

    /** The znodes as something holds them already (the fleet exporter's cache): no round trip. */
    public interface Snapshot {
        Optional<Node> get(String path);

        /** The names of the children of {@code path}; none when it does not exist. */
        List<String> children(String path);
    }

    /**
     * One device.
     *
     * @param online a member znode exists (its session is alive)
     * @param since online: when the member znode was created (registered under the current
     *     session); offline: when the status was last written; null if neither exists
     * @param fleetVersion, deviceVersion the applied versions from the status; -1 when none was applied; null without a status
     * @param latestDeviceVersion the highest data version in the device's config layer now, -1 if it has none
     * @param configErrors the status's config errors, each {@code znode path: message}
     * @param sensors each sensor's state from the status ({@code ok}, {@code failing}, ...)
     * @param problem what is wrong with the device's own znodes (a status that is not what SPEC §5
     *     says: a device may write its own, so a bad one is that device's problem, shown with it), or null
     * @param buffered, dropped the status's readings not yet acknowledged, and dropped in all (0 without a status)
     */
    public record Device(String device, boolean online, Instant since, long ownerSession, String agentVersion,
                         String firmware, Long fleetVersion, Long deviceVersion, long latestDeviceVersion,
                         List<String> configErrors, Map<String, String> sensors, Boolean mqttConnected, String problem,
                         long buffered, long dropped) {
        /** The sensors whose state is not {@code ok}. */
        public List<String> unhealthySensors() {
            return sensors.entrySet().stream().filter(e -> !"ok".equals(e.getValue())).map(e -> e.getKey() + " " + e.getValue()).toList();
        }
    }

    /** The fleet: the latest fleet config version now, and its devices by name. */
    public record Fleet(String fleet, long latestFleetVersion, List<Device> devices) {
        public long online() {
            return devices.stream().filter(Device::online).count();
        }
    }

    /** Thrown when {@code /fleets/F} does not exist under the root. */
    public static final class NoSuchFleetException extends Exception {
        public NoSuchFleetException(String message) {
            super(message);
        }
    }

    /** Reads fleet {@code fleet} under {@code root} (the bootstrap config's {@code zookeeper.root}). */
    public static Fleet read(CuratorFramework zk, String root, String fleet, long timeoutMs) throws Exception {
        String base = root + "/fleets/" + fleet;
        if (zk.checkExists().forPath(base) == null) {
            List<String> known = children(zk, root + "/fleets").get(timeoutMs, TimeUnit.MILLISECONDS);
            throw new NoSuchFleetException("there is no fleet \"" + fleet + "\" under " + (root.isEmpty() ? "/" : root)
                    + (known.isEmpty() ? " (no fleets at all)" : " (fleets: " + String.join(", ", new TreeSet<>(known)) + ")"));
        }
        var members = children(zk, base + "/members");
        var devices = children(zk, base + "/devices");
        var latestFleet = layerVersion(zk, base + "/config");
        TreeSet<String> names = new TreeSet<>(members.get(timeoutMs, TimeUnit.MILLISECONDS));
        // A device znode without a status (only config for it) is not a gateway that ever ran.
        Map<String, CompletableFuture<Optional<Node>>> status = new TreeMap<>(), member = new TreeMap<>();
        Map<String, CompletableFuture<Long>> deviceLayer = new TreeMap<>();
        for (String d : devices.get(timeoutMs, TimeUnit.MILLISECONDS)) status.put(d, data(zk, base + "/devices/" + d + "/status"));
        for (var e : status.entrySet()) {
            if (e.getValue().get(timeoutMs, TimeUnit.MILLISECONDS).isPresent()) names.add(e.getKey());
        }
        for (String d : names) {
            member.put(d, data(zk, base + "/members/" + d));
            status.computeIfAbsent(d, x -> CompletableFuture.completedFuture(Optional.empty()));
            deviceLayer.put(d, layerVersion(zk, base + "/devices/" + d + "/config"));
        }
        List<Device> out = new ArrayList<>();
        for (String d : names) {
            out.add(device(d, member.get(d).get(timeoutMs, TimeUnit.MILLISECONDS), status.get(d).get(timeoutMs, TimeUnit.MILLISECONDS),
                    deviceLayer.get(d).get(timeoutMs, TimeUnit.MILLISECONDS)));
        }
        return new Fleet(fleet, latestFleet.get(timeoutMs, TimeUnit.MILLISECONDS), out);
    }

    /**
     * One device from its znodes. A member or status znode that is not what SPEC §5 says (not JSON,
     * fields of the wrong type) gives the device a {@code problem}, never an exception: a device may
     * write its own status, and one bad device must not blind the operator's view of the fleet.
     */
    static Device device(String name, Optional<Node> member, Optional<Node> status, long latestDevice) {
        Instant since = member.map(n -> Instant.ofEpochMilli(n.stat.getCtime()))
                .orElse(status.map(n -> Instant.ofEpochMilli(n.stat.getMtime())).orElse(null));
        long owner = member.map(n -> n.stat.getEphemeralOwner()).orElse(0L);
        List<String> problems = new ArrayList<>();
        JsonNode m = member.map(n -> object(n.data, "member", problems)).orElse(null);
        JsonNode s = status.map(n -> object(n.data, "status", problems)).orElse(null);
        String firmware = m != null ? text(m.path("firmware")) : s != null ? text(s.path("firmware").path("running")) : null;
        Long fleetVersion = null, deviceVersion = null;
        List<String> errors = new ArrayList<>();
        Map<String, String> sensors = new TreeMap<>();
        Boolean mqtt = null;
        long buffered = 0, dropped = 0;
        if (s != null) {
            JsonNode c = s.path("config");
            fleetVersion = version(c.path("fleetVersion"), "config.fleetVersion", problems);
            deviceVersion = version(c.path("deviceVersion"), "config.deviceVersion", problems);
            JsonNode errs = c.path("errors");
            if (!errs.isMissingNode() && !errs.isNull() && !errs.isArray()) problems.add("status: config.errors is not a list");
            for (JsonNode e : errs.isArray() ? errs : com.fasterxml.jackson.databind.node.MissingNode.getInstance()) {
                errors.add(text(e.path("znode")) + " " + text(e.path("path")) + ": " + text(e.path("message")));
            }
            JsonNode ss = s.path("sensors");
            if (!ss.isMissingNode() && !ss.isNull() && !ss.isObject()) problems.add("status: sensors is not an object");
            ss.properties().forEach(e -> {
                String state = e.getValue().isObject() ? text(e.getValue().path("state")) : null;
                if (state == null) problems.add("status: sensor " + e.getKey() + " has no state");
                sensors.put(e.getKey(), state == null ? "unknown" : state);
            });
            JsonNode connected = s.path("mqtt").path("connected");
            if (connected.isBoolean()) mqtt = connected.asBoolean();
            buffered = s.path("mqtt").path("buffered").asLong(0);
            for (JsonNode bySensor : s.path("mqtt").path("dropped")) for (JsonNode n : bySensor) dropped += n.asLong(0);
        }
        return new Device(name, member.isPresent(), since, owner, m == null ? null : text(m.path("agentVersion")), firmware,
                fleetVersion, deviceVersion, latestDevice, List.copyOf(errors), Map.copyOf(sensors), mqtt,
                problems.isEmpty() ? null : String.join("; ", problems), buffered, dropped);
    }

    /** Fleet {@code fleet} under {@code root} from a snapshot of its znodes, as {@link #read} reads it from ZooKeeper. */
    public static Fleet read(Snapshot s, String root, String fleet) {
        String base = root + "/fleets/" + fleet;
        TreeSet<String> names = new TreeSet<>(s.children(base + "/members"));
        for (String d : s.children(base + "/devices")) if (s.get(base + "/devices/" + d + "/status").isPresent()) names.add(d);
        List<Device> out = new ArrayList<>();
        for (String d : names) {
            out.add(device(d, s.get(base + "/members/" + d), s.get(base + "/devices/" + d + "/status"),
                    layerVersion(s, base + "/devices/" + d + "/config")));
        }
        return new Fleet(fleet, layerVersion(s, base + "/config"), out);
    }

    private static long layerVersion(Snapshot s, String configRoot) {
        long v = s.get(configRoot + "/agent").map(n -> (long) n.stat().getVersion()).orElse(-1L);
        for (String n : s.children(configRoot + "/sensors")) {
            v = Math.max(v, s.get(configRoot + "/sensors/" + n).map(x -> (long) x.stat().getVersion()).orElse(-1L));
        }
        return v;
    }

    /** The znode's JSON object; missing (every field absent) with a problem when it is not one. */
    private static JsonNode object(byte[] data, String what, List<String> problems) {
        JsonNode n = tree(data);
        if (n.isObject()) return n;
        problems.add(what + " znode is not a JSON object");
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    /** A version from the status: -1 when absent (none applied), null with a problem when not a number. */
    private static Long version(JsonNode n, String field, List<String> problems) {
        if (n.isMissingNode() || n.isNull()) return -1L;
        if (n.canConvertToLong() && n.isIntegralNumber()) return n.asLong();
        problems.add("status: " + field + " is not a number");
        return null;
    }

    private static JsonNode tree(byte[] data) {
        try {
            return Json.mapper().readTree(data == null ? new byte[0] : data);
        } catch (Exception e) {
            return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        }
    }

    private static String text(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? null : n.asText();
    }

    /** The highest data version of a config layer ({@code agent} and {@code sensors/*}), -1 when it has none (as ConfigLayer.version()). */
    private static CompletableFuture<Long> layerVersion(CuratorFramework zk, String configRoot) {
        CompletableFuture<Optional<Node>> agent = data(zk, configRoot + "/agent");
        CompletableFuture<Long> sensors = children(zk, configRoot + "/sensors").thenCompose(names -> {
            List<CompletableFuture<Optional<Node>>> all = names.stream().map(n -> data(zk, configRoot + "/sensors/" + n)).toList();
            return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> all.stream()
                    .map(CompletableFuture::join).flatMap(Optional::stream).mapToLong(n -> n.stat.getVersion()).max().orElse(-1));
        });
        return agent.thenCombine(sensors, (a, s) -> Math.max(a.map(n -> (long) n.stat.getVersion()).orElse(-1L), s));
    }

    private static CompletableFuture<Optional<Node>> data(CuratorFramework zk, String path) {
        CompletableFuture<Optional<Node>> f = new CompletableFuture<>();
        try {
            zk.getData().inBackground((c, e) -> {
                if (e.getResultCode() == KeeperException.Code.OK.intValue()) f.complete(Optional.of(new Node(e.getData(), e.getStat())));
                else if (e.getResultCode() == KeeperException.Code.NONODE.intValue()) f.complete(Optional.empty());
                else f.completeExceptionally(KeeperException.create(KeeperException.Code.get(e.getResultCode()), path));
            }).forPath(path);
        } catch (Exception e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    private static CompletableFuture<List<String>> children(CuratorFramework zk, String path) {
        CompletableFuture<List<String>> f = new CompletableFuture<>();
        try {
            zk.getChildren().inBackground((c, e) -> {
                if (e.getResultCode() == KeeperException.Code.OK.intValue()) f.complete(e.getChildren());
                else if (e.getResultCode() == KeeperException.Code.NONODE.intValue()) f.complete(List.of());
                else f.completeExceptionally(KeeperException.create(KeeperException.Code.get(e.getResultCode()), path));
            }).forPath(path);
        } catch (Exception e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    /** Unwraps the cause of a failed read, for a message. */
    public static Throwable cause(Throwable t) {
        return t instanceof ExecutionException && t.getCause() != null ? t.getCause() : t;
    }
}
