package dev.meerkat.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.coordination.fleet.FleetView;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/** The fleet exporter's series from a fleet's znodes as its cache holds them. */
class FleetExporterSeriesTest {
    private final Map<String, FleetView.Node> nodes = new HashMap<>();

    private void put(String path, String json, int version, long owner) {
        Stat stat = new Stat();
        stat.setVersion(version);
        stat.setEphemeralOwner(owner);
        nodes.put(path, new FleetView.Node(json.getBytes(StandardCharsets.UTF_8), stat));
        for (int slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
            nodes.putIfAbsent(path.substring(0, slash), new FleetView.Node(new byte[0], new Stat()));
        }
    }

    private final FleetView.Snapshot snapshot = new FleetView.Snapshot() {
        @Override
        public Optional<FleetView.Node> get(String path) {
            return Optional.ofNullable(nodes.get(path));
        }

        @Override
        public List<String> children(String path) {
            List<String> out = new ArrayList<>();
            for (String p : nodes.keySet()) if (p.startsWith(path + "/") && p.indexOf('/', path.length() + 1) < 0) out.add(p.substring(path.length() + 1));
            return out;
        }
    };

    @Test
    void devicesConfigVersionsAndRolloutsFromTheFleetsZnodes() throws Exception {
        String f = "/meerkat/fleets/f";
        put(f + "/config/agent", "{}", 3, 0);
        put(f + "/config/sensors/a", "{\"driver\":\"simulated\"}", 5, 0);
        put(f + "/members/gw-1", "{\"device\":\"gw-1\",\"agentVersion\":\"0.1.0\",\"firmware\":\"1.2.3\"}", 0, 0x1234);
        put(f + "/devices/gw-1/status", "{\"config\":{\"fleetVersion\":4,\"deviceVersion\":-1,\"errors\":[{\"znode\":\"/x\",\"path\":\"$\","
                + "\"message\":\"m\"}]},\"sensors\":{\"a\":{\"state\":\"ok\"},\"b\":{\"state\":\"failing\"}},"
                + "\"mqtt\":{\"connected\":true,\"buffered\":7,\"dropped\":{\"a\":{\"maxBytes\":2,\"full\":1}}}}", 9, 0);
        put(f + "/devices/gw-2/status", "{\"config\":{\"fleetVersion\":5,\"deviceVersion\":-1,\"errors\":[]},\"mqtt\":{\"connected\":false}}", 2, 0);
        put(f + "/rollouts/r1", "{}", 0, 0);
        put(f + "/rollouts/r1/state", "{\"status\":\"running\",\"devices\":{\"gw-1\":{\"wave\":1,\"state\":\"healthy\"},"
                + "\"gw-2\":{\"wave\":1,\"state\":\"targeted\"}}}", 1, 0);
        String text = text(new FleetExporter.Series(null, null, "/meerkat", List.of()).collect(snapshot, true));
        for (String line : List.of(
                "meerkat_exporter_zookeeper_connected 1.0",
                "meerkat_fleet_devices{fleet=\"f\"} 2.0",
                "meerkat_fleet_devices_online{fleet=\"f\"} 1.0",
                "meerkat_fleet_config_latest_version{fleet=\"f\"} 5.0",
                "meerkat_device_online{device=\"gw-1\",fleet=\"f\"} 1.0",
                "meerkat_device_online{device=\"gw-2\",fleet=\"f\"} 0.0",
                "meerkat_device_config_version{device=\"gw-1\",fleet=\"f\",layer=\"fleet\"} 4.0",
                "meerkat_device_config_errors{device=\"gw-1\",fleet=\"f\"} 1.0",
                "meerkat_device_sensors_not_ok{device=\"gw-1\",fleet=\"f\"} 1.0",
                "meerkat_device_buffer_readings{device=\"gw-1\",fleet=\"f\"} 7.0",
                "meerkat_device_readings_dropped{device=\"gw-1\",fleet=\"f\"} 3.0",
                "meerkat_device_mqtt_connected{device=\"gw-2\",fleet=\"f\"} 0.0",
                "meerkat_device_firmware_info{device=\"gw-1\",fleet=\"f\",version=\"1.2.3\"} 1",
                "meerkat_rollout_info{fleet=\"f\",rollout=\"r1\",status=\"running\"} 1",
                "meerkat_rollout_devices{fleet=\"f\",rollout=\"r1\",state=\"healthy\"} 1.0",
                "meerkat_rollout_devices{fleet=\"f\",rollout=\"r1\",state=\"targeted\"} 1.0")) {
            assertTrue(text.contains(line + "\n"), "no line \"" + line + "\" in:\n" + text);
        }
    }

    static String text(io.prometheus.metrics.model.snapshots.MetricSnapshots s) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, s);
        return out.toString(StandardCharsets.UTF_8);
    }
}
