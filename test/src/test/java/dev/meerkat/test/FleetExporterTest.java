package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.PrometheusServer;
import dev.meerkat.test.fixtures.ServersPerTest;
import dev.meerkat.testing.Await;
import dev.meerkat.testing.Ports;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code meerkat fleet exporter} as an operator runs it, scraped by a real Prometheus server: two
 * agent processes of a fleet show online, one killed with {@code kill -9} goes offline within its
 * session timeout, and a rejected config document shows in the devices' series.
 */
class FleetExporterTest {
    @RegisterExtension
    final ServersPerTest servers = new ServersPerTest("exporter");

    @Test
    void prometheusSeesTheFleetFromZooKeeper() throws Exception {
        Path prometheus = PrometheusServer.find().orElse(null);
        assumeTrue(prometheus != null, "needs prometheus (apt-get install -y prometheus)");
        int port = Ports.free();
        try (Fleet fleet = new Fleet("fx", servers.zk(), servers.work())) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"1s\"}");
            Path one = fleet.bootstrap("gw-1", servers.zk().connectString(), "4s", servers.mqtt().uri());
            Path two = fleet.bootstrap("gw-2", servers.zk().connectString(), "4s", servers.mqtt().uri());
            try (AgentProcess a = AgentProcess.start(fleet.log("gw-1"), "run", "--config", one.toString());
                 AgentProcess b = AgentProcess.start(fleet.log("gw-2"), "run", "--config", two.toString());
                 AgentProcess exporter = AgentProcess.start(servers.work().resolve("exporter.log"), "fleet", "exporter",
                         "--config", one.toString(), "--fleet", "fx", "--listen", "127.0.0.1:" + port);
                 PrometheusServer p = PrometheusServer.start(prometheus, servers.work().resolve("prometheus"), List.of("127.0.0.1:" + port))) {
                Await.until(Duration.ofSeconds(60), "both devices online in Prometheus",
                        () -> p.value("meerkat_fleet_devices_online{fleet=\"fx\"}").orElse(0) == 2
                                && p.value("meerkat_device_config_version{device=\"gw-2\",layer=\"fleet\"}").orElse(-2) >= 0,
                        () -> exporter.log() + p.log());
                assertEquals(0.0, p.value("meerkat_device_config_errors{device=\"gw-1\"}").orElse(-1));

                b.signal("KILL");
                Await.until(Duration.ofSeconds(30), "the killed device offline (its session timed out, 4 s)",
                        () -> p.value("meerkat_device_online{device=\"gw-2\"}").orElse(-1) == 0, exporter::log);
                assertEquals(1.0, p.value("meerkat_device_online{device=\"gw-1\"}").orElse(-1));

                fleet.fleetSensor("bad", "{\"driver\": \"no-such-driver\"}");
                Await.until(Duration.ofSeconds(30), "the rejected document in the fleet's series",
                        () -> p.value("meerkat_device_config_errors{device=\"gw-1\"}").orElse(0) >= 1, exporter::log);

                PrometheusServer.Check promtool = PrometheusServer.promtool(port);
                assertEquals(0, promtool.exit(), "promtool check metrics: " + promtool.said());
                exporter.signal("TERM");
                assertEquals(0, exporter.waitFor(Duration.ofSeconds(15)), exporter.log());
            }
        }
    }
}
