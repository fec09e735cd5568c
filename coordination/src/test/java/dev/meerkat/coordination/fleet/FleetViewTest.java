package dev.meerkat.coordination.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/**
 * A device may write its own status znode (docs/security.md): whatever it holds, the fleet's view
 * shows that device with a problem and every other device as it is, never an exception.
 */
class FleetViewTest {
    private static Optional<FleetView.Node> node(String json) {
        Stat stat = new Stat();
        stat.setCtime(1_000);
        stat.setMtime(2_000);
        stat.setEphemeralOwner(0x42);
        return Optional.of(new FleetView.Node(json == null ? null : json.getBytes(StandardCharsets.UTF_8), stat));
    }

    @Test
    void aWellFormedStatusHasNoProblem() {
        FleetView.Device d = FleetView.device("d1", node("{\"agentVersion\":\"0.1.0\",\"firmware\":\"0.1.0\"}"),
                node("{\"config\":{\"fleetVersion\":3,\"deviceVersion\":-1,\"errors\":[]},\"sensors\":{\"s1\":{\"state\":\"ok\"}},"
                        + "\"mqtt\":{\"connected\":true}}"), 0);
        assertNull(d.problem());
        assertEquals(3L, d.fleetVersion());
        assertEquals(Map.of("s1", "ok"), d.sensors());
        assertEquals(true, d.mqttConnected());
    }

    @Test
    void hostileStatusesAreThatDevicesProblem() {
        for (String status : List.of("{\"sensors\":{\"s1\":5}}", "{not json", "null", "[1,2]", "\"x\"", "",
                "{\"config\":{\"fleetVersion\":\"x\",\"errors\":7}}", "{\"sensors\":[1]}", "{\"sensors\":{\"s1\":{\"state\":null}}}",
                "{\"mqtt\":{\"connected\":\"yes\"},\"config\":{\"errors\":[1,null,{\"znode\":5}]}}", "{".repeat(5000))) {
            FleetView.Device d = FleetView.device("d1", node("{\"agentVersion\":[1]}"), node(status), 0);
            assertEquals("d1", d.device(), status);
            assertTrue(d.online(), status);
            boolean wellFormedEnough = status.startsWith("{\"mqtt\"");
            assertTrue(wellFormedEnough || d.problem() != null, "a problem for " + status + ": " + d);
        }
        FleetView.Device d = FleetView.device("d1", Optional.empty(), node("{\"sensors\":{\"s1\":5}}"), 0);
        assertEquals("status: sensor s1 has no state", d.problem());
        assertEquals(Map.of("s1", "unknown"), d.sensors());
        assertEquals(-1L, d.fleetVersion());
    }
}
