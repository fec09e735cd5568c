package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.PrometheusServer;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.test.fixtures.ServersPerTest;
import dev.meerkat.testing.Await;
import dev.meerkat.testing.Ports;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The agent's {@code /metrics} (bootstrap {@code metrics.listen}), scraped by a real Prometheus
 * server and checked against what the agent did: readings acknowledged grow with the readings a
 * subscriber receives, a broker outage shows in the connection and the buffer, and
 * {@code promtool check metrics} finds nothing to say. Off, the Prometheus client is not loaded.
 */
class MetricsTest {
    @RegisterExtension
    final ServersPerTest servers = new ServersPerTest("metrics");

    private Path boot(Fleet fleet, String sections) throws Exception {
        fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"100ms\"}");
        return fleet.bootstrap("gw-1", servers.zk().connectString(), "10s", servers.mqtt().uri(), "", sections);
    }

    @Test
    void prometheusScrapesTheAgentAndSeesWhatItDoes() throws Exception {
        Path prometheus = PrometheusServer.find().orElse(null);
        assumeTrue(prometheus != null, "needs prometheus (apt-get install -y prometheus)");
        int port = Ports.free();
        try (Fleet fleet = new Fleet("metrics", servers.zk(), servers.work());
             RecordingSubscriber rec = new RecordingSubscriber(servers.mqtt().uri(), "meerkat/metrics/gw-1/sensors/#", 1)) {
            Path boot = boot(fleet, "metrics:\n  listen: \"127.0.0.1:" + port + "\"\n");
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString());
                 PrometheusServer p = PrometheusServer.start(prometheus, servers.work().resolve("prometheus"), List.of("127.0.0.1:" + port))) {
                Await.until(Duration.ofSeconds(60), "Prometheus sees the agent up and connected",
                        () -> p.value("meerkat_mqtt_connected{job=\"meerkat\"}").orElse(-1) == 1
                                && p.value("meerkat_registered{job=\"meerkat\"}").orElse(-1) == 1, () -> agent.log() + p.log());
                Await.until(Duration.ofSeconds(30), "acknowledged readings counted",
                        () -> p.value("sum(meerkat_readings_acknowledged_total)").orElse(0) >= 20, agent::log);
                double acked = p.value("sum(meerkat_readings_acknowledged_total)").orElseThrow();
                // Every reading the broker acknowledged reaches the subscriber.
                Await.until(Duration.ofSeconds(10), "the subscriber has at least what was acknowledged",
                        () -> rec.messages().size() >= acked, () -> rec.messages().size() + " received, " + acked + " acknowledged");
                Await.until(Duration.ofSeconds(10), "the count grows", () -> p.value("sum(meerkat_readings_acknowledged_total)").orElse(0) > acked);
                assertEquals(1.0, p.value("meerkat_sensor_up{sensor=\"a\"}").orElse(-1));
                // Per sensor (SPEC §11): the one sensor's counts are the whole, and what is enqueued covers what is acknowledged.
                double aAcked = p.value("meerkat_readings_acknowledged_total{sensor=\"a\"}").orElse(-1);
                assertTrue(aAcked >= acked, "sensor a's acknowledged " + aAcked + " against " + acked + " in all before");
                assertTrue(p.value("meerkat_readings_enqueued_total{sensor=\"a\"}").orElse(-1) >= aAcked, "enqueued covers acknowledged");
                assertEquals(0.0, p.value("meerkat_config_errors").orElse(-1));
                assertTrue(p.value("process_resident_memory_bytes").orElse(0) > 10e6, "the process's memory is there");

                servers.mqtt().stop();
                Await.until(Duration.ofSeconds(30), "the outage in Prometheus: not connected, readings buffered",
                        () -> p.value("meerkat_mqtt_connected").orElse(-1) == 0 && p.value("meerkat_buffer_readings").orElse(0) > 10,
                        agent::log);
                servers.mqtt().start();
                Await.until(Duration.ofSeconds(60), "connected again, the buffer drained",
                        () -> p.value("meerkat_mqtt_connected").orElse(-1) == 1 && p.value("meerkat_buffer_readings").orElse(99) < 5,
                        agent::log);

                PrometheusServer.Check promtool = PrometheusServer.promtool(port);
                assertEquals(0, promtool.exit(), "promtool check metrics: " + promtool.said());
            }
        }
    }

    @Test
    void aPortInUseStopsTheStartNamingTheKey() throws Exception {
        try (Fleet fleet = new Fleet("metrics", servers.zk(), servers.work());
             ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Path boot = boot(fleet, "metrics:\n  listen: \"127.0.0.1:" + taken.getLocalPort() + "\"\n");
            int exit = AgentProcess.run(fleet.log("gw-1"), Duration.ofSeconds(60), "run", "--config", boot.toString());
            String log = Files.readString(fleet.log("gw-1"));
            assertEquals(1, exit, log);
            assertTrue(log.contains("metrics.listen 127.0.0.1:" + taken.getLocalPort() + ": cannot listen there"), log);
        }
    }

    @Test
    void withoutMetricsThePrometheusClientIsNotEvenLoaded() throws Exception {
        try (Fleet fleet = new Fleet("metrics", servers.zk(), servers.work());
             RecordingSubscriber rec = new RecordingSubscriber(servers.mqtt().uri(), "meerkat/metrics/gw-1/sensors/#", 1)) {
            Path boot = boot(fleet, "");
            Path classes = servers.work().resolve("classes.log");
            // The launcher's own options, and a log of every class loaded.
            String opts = "-Xmx128m -XX:+UseSerialGC -Xlog:class+load=info:file=" + classes;
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), Map.of("MEERKAT_JAVA_OPTS", opts), "run", "--config", boot.toString())) {
                rec.await(Duration.ofSeconds(60), 5, m -> true);
                String loaded = Files.readString(classes);
                assertTrue(loaded.contains("dev.meerkat.agent.Agent "), "the log holds the agent's classes");
                assertTrue(!loaded.contains("io.prometheus") && !loaded.contains("dev.meerkat.agent.metrics"), "loaded without metrics.listen");
                // Nor is Sparkplug's (Tahu, protobuf) while the format is json.
                assertTrue(!loaded.contains("org.eclipse.tahu") && !loaded.contains("com.google.protobuf") && !loaded.contains("dev.meerkat.agent.sparkplug"),
                        "loaded with publish.format json");
            }
        }
    }
}
