package dev.meerkat.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every device of a fleet may write a rollout's state znode (its ACL): whatever it holds,
 * {@code meerkat rollout status} shows that rollout with the reason, and the others as they are.
 */
class RolloutStatusTest {
    private static final byte[] DOC = "{\"firmware\":\"1.5.0\",\"waves\":[{\"percent\":10},{\"percent\":100}]}".getBytes(StandardCharsets.UTF_8);

    private static Map<String, Object> describe(String state) {
        return RolloutDescription.describe("r1", DOC, state == null ? null : state.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void hostileStatesAreThatRolloutsProblem() {
        for (String state : List.of("{not json", "null", "{\"population\":{\"a\":1}}", "{\"waves\":[{\"goal\":\"x\"}]}",
                "[".repeat(1200) + "]".repeat(1200), "{\"waves\":[null]}", "{\"status\":\"running\",\"waves\":7}", "\"x\"")) {
            Map<String, Object> m = describe(state);
            assertEquals("unreadable", m.get("status"), state.length() > 50 ? "deep nesting" : state);
            assertTrue(String.valueOf(m.get("reason")).startsWith("its state znode is not what a leader writes: "), m.toString());
            assertEquals("1.5.0", m.get("firmware"));
            assertEquals("0/2", m.get("wave"));
            assertEquals(List.of(), m.get("waves"));
        }
    }

    @Test
    void aRolloutWithoutItsStateIsPendingAndAGoodStateIsShownAsItIs() {
        Map<String, Object> pending = describe(null);
        assertEquals("pending", pending.get("status"));
        assertEquals("no leader has started it yet", pending.get("reason"));

        Map<String, Object> created = describe(""); // an empty state: just created, as RolloutState reads it
        assertTrue(!"unreadable".equals(created.get("status")), created.toString());

        Map<String, Object> running = describe("{\"status\":\"running\",\"population\":3,\"waves\":[{\"goal\":1,\"devices\":[\"gw-1\"],"
                + "\"startedAt\":\"2026-12-06T00:00:00Z\"}],\"devices\":{\"gw-1\":{\"wave\":1,\"state\":\"healthy\"}},\"leader\":\"gw-2\",\"epoch\":7}");
        assertEquals("running", running.get("status"));
        assertEquals("1/2", running.get("wave"));
        assertEquals("gw-2", running.get("leader"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> waves = (List<Map<String, Object>>) running.get("waves");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> devices = (List<Map<String, Object>>) waves.get(0).get("devices");
        assertEquals("healthy", devices.get(0).get("state"));
    }
}
