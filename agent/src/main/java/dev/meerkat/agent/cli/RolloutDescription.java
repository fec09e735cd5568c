package dev.meerkat.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import dev.meerkat.coordination.rollout.RolloutState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A rollout as {@code meerkat rollout status} shows it, from its document and its state znode:
 * a state that is not what a leader writes is shown as that rollout's problem (status
 * {@code unreadable}, with the reason), never an exception. Pure logic.
 */
final class RolloutDescription {
    private RolloutDescription() {}

    /** One rollout as {@code meerkat rollout status} shows it, from the two znodes' data ({@code state} null: no state znode). */
    static Map<String, Object> describe(String r, byte[] docBytes, byte[] stateBytes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r);
        JsonNode doc;
        try {
            doc = Json.tree(docBytes);
        } catch (Exception e) {
            doc = com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        }
        m.put("firmware", doc.path("firmware").isTextual() ? doc.path("firmware").asText() : null);
        m.put("control", doc.path("control").isTextual() ? doc.path("control").asText() : "run");
        int planned = doc.path("waves").isArray() ? doc.path("waves").size() : -1;
        if (stateBytes == null) {
            unread(m, "pending", "no leader has started it yet", planned);
            return m;
        }
        Map<String, Object> rest;
        try {
            RolloutState state = RolloutState.read(stateBytes);
            rest = state(state, planned);
        } catch (Exception | StackOverflowError e) {
            unread(m, "unreadable", "its state znode is not what a leader writes: " + reason(e), planned);
            return m;
        }
        m.putAll(rest);
        return m;
    }

    private static String reason(Throwable e) {
        String msg = e instanceof StackOverflowError ? "nested too deeply" : e.getMessage() == null ? e.toString() : e.getMessage();
        msg = msg.lines().findFirst().orElse("");
        return msg.length() > 200 ? msg.substring(0, 200) + "..." : msg;
    }

    private static void unread(Map<String, Object> m, String status, String reason, int planned) {
        m.put("status", status);
        m.put("reason", reason);
        m.put("wave", "0/" + (planned < 0 ? "?" : planned));
        m.put("failures", 0);
        m.put("population", null);
        m.put("leader", null);
        m.put("epoch", null);
        m.put("updatedAt", null);
        m.put("waves", List.of());
    }

    /** The fields of a state as a leader writes it; throws on one that is not (a field missing or of the wrong kind). */
    private static Map<String, Object> state(RolloutState state, int planned) {
        if (state == null) throw new IllegalArgumentException("null");
        java.util.Objects.requireNonNull(state.status(), "no status");
        java.util.Objects.requireNonNull(state.waves(), "no waves");
        Map<String, RolloutState.Device> byDevice = state.devices() == null ? Map.of() : state.devices();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", state.status());
        m.put("reason", state.reason());
        m.put("wave", state.waves().size() + "/" + (planned < 0 ? "?" : planned));
        m.put("failures", state.failures());
        m.put("population", state.population());
        m.put("leader", state.leader());
        m.put("epoch", state.epoch());
        m.put("updatedAt", state.updatedAt());
        List<Map<String, Object>> waves = new ArrayList<>();
        for (int i = 0; i < state.waves().size(); i++) {
            RolloutState.Wave w = java.util.Objects.requireNonNull(state.waves().get(i), "wave " + (i + 1) + " is null");
            Map<String, Object> wm = new LinkedHashMap<>();
            wm.put("wave", i + 1);
            wm.put("goal", w.goal());
            wm.put("startedAt", w.startedAt());
            wm.put("finishedAt", w.finishedAt());
            List<Map<String, Object>> devices = new ArrayList<>();
            for (String d : w.devices() == null ? List.<String>of() : w.devices()) {
                RolloutState.Device dev = byDevice.get(d);
                Map<String, Object> dm = new LinkedHashMap<>();
                dm.put("device", d);
                dm.put("state", dev == null ? null : dev.state());
                dm.put("reason", dev == null ? null : dev.reason());
                dm.put("targetAt", dev == null ? null : dev.targetAt());
                dm.put("at", dev == null ? null : dev.at());
                devices.add(dm);
            }
            wm.put("devices", devices);
            waves.add(wm);
        }
        m.put("waves", waves);
        return m;
    }
}
