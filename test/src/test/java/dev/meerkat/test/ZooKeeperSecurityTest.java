package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Json;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.coordination.security.ZooKeeperSecurity;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Certificates;
import dev.meerkat.test.fixtures.Fixtures;
import dev.meerkat.test.fixtures.MqttBroker;
import dev.meerkat.test.fixtures.ProcessEnsemble;
import dev.meerkat.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * ZooKeeper over real TLS with the ACL model (docs/security.md): a 3-server ensemble in its own
 * processes with a TLS client port that asks for client certificates (x509 auth), certificates the
 * test makes, an operator with digest credentials, devices provisioned with {@code meerkat
 * provision}: one proving itself by certificate, one by digest. Each device runs, registers, reads
 * its config, writes its status and takes a shared lock, and can do nothing to the other device or
 * to any config; a certificate from another CA is refused with a clear message; no secret is ever
 * printed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ZooKeeperSecurityTest {
    static final String STORE_PASSWORD = "zk-store-secret-51b7", OPERATOR_PASSWORD = "operator-secret-9c2d";
    static final String FLEET = "secure";
    static Path work, provision, operatorConfig;
    static Certificates certs;
    static ProcessEnsemble zk;
    static MqttBroker broker;
    static final List<String> printed = new ArrayList<>();

    @BeforeAll
    static void servers() throws Exception {
        work = Fixtures.workDir("zk-security");
        certs = new Certificates(work.resolve("certs"));
        certs.ca("zk-ca");
        certs.ca("client-ca");
        certs.ca("rogue-ca");
        certs.issue("zk-ca", "zk-server");
        certs.issue("client-ca", "gw-a");
        certs.issue("client-ca", "gw-b");
        certs.issue("client-ca", "operator");
        certs.issue("rogue-ca", "intruder");
        certs.keyStore("zk-server", STORE_PASSWORD);
        certs.keyStore("gw-a", STORE_PASSWORD);
        certs.keyStore("gw-b", STORE_PASSWORD);
        certs.keyStore("operator", STORE_PASSWORD);
        certs.keyStore("intruder", STORE_PASSWORD);
        certs.trustStore("client-ca", STORE_PASSWORD);
        zk = new ProcessEnsemble(3, work.resolve("zk"), List.of(
                "ssl.keyStore.location=" + certs.file("zk-server.p12"),
                "ssl.keyStore.password=" + STORE_PASSWORD,
                "ssl.trustStore.location=" + certs.file("client-ca-trust.p12"),
                "ssl.trustStore.password=" + STORE_PASSWORD,
                // Every client shows a certificate of the client CA (docs/security.md); some prove who they are by digest besides.
                "ssl.clientAuth=need",
                "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider"));
        broker = Fixtures.broker(work.resolve("mqtt"));
        provision = work.resolve("provision");
        Path operatorSecret = Certificates.secret(work.resolve("operator.secret"), "operator:" + OPERATOR_PASSWORD);
        operatorConfig = Files.writeString(work.resolve("operator.yaml"), """
                zookeeper:
                  connect: %s
                  tls:
                    trustStore: %s
                    keyStore: %s
                    keyStorePasswordFile: %s
                  auth:
                    scheme: digest
                    credentialsFile: %s
                mqtt:
                  uri: %s
                """.formatted(zk.secureConnectString(), certs.file("zk-ca.pem"), certs.file("operator.p12"), certs.file("operator.p12.pass"),
                operatorSecret, broker.uri()));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            // Whatever ran: no secret in anything printed.
            List<String> secrets = new ArrayList<>(List.of(STORE_PASSWORD, OPERATOR_PASSWORD));
            secrets.addAll(passwordsIn(provision));
            for (String out : printed) for (String s : secrets) assertFalse(out.contains(s), "a secret in the output:\n" + out);
        } finally {
            if (broker != null) broker.close();
            if (zk != null) zk.close();
        }
    }

    @Test
    @Order(1)
    void provisionCreatesTheDevicesZnodesAndIsIdempotent() throws Exception {
        JsonNode first = provisionJson("gw-a", "--device-cert", certs.file("gw-a.pem").toString());
        assertTrue(first.path("created").asInt() >= 15, first.toString());
        assertEquals("x509:CN=gw-a", first.path("deviceIdentity").asText());
        JsonNode again = provisionJson("gw-a", "--device-cert", certs.file("gw-a.pem").toString());
        assertEquals(0, again.path("created").asInt(), again.toString());
        assertEquals(0, again.path("aclSet").asInt(), "a second run changes nothing: " + again);
        JsonNode b = provisionJson("gw-b");
        assertEquals("digest:" + FLEET + "/gw-b", b.path("deviceIdentity").asText());
        // The fleet's secret is shared, each file owner-only.
        for (Path f : List.of(provision.resolve(FLEET + "/fleet.secret"), provision.resolve(FLEET + "/gw-a/zk.secret"),
                provision.resolve(FLEET + "/gw-b/zk.secret"))) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
        }
        String aCreds = Files.readString(provision.resolve(FLEET + "/gw-a/zk.secret"));
        assertFalse(aCreds.contains(FLEET + "/gw-a:"), "a device with a certificate has no password of its own");
        assertTrue(Files.readString(provision.resolve(FLEET + "/gw-b/zk.secret")).contains(FLEET + "/gw-b:"));
        assertEquals(0, BootstrapConfig.parse(Json.mapper().readTree(Json.mapper().writeValueAsString(
                new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readTree(provision.resolve(FLEET + "/gw-b/agent.yaml").toFile()))),
                "agent.yaml", Path.of("/etc/meerkat")).device().id().compareTo("gw-b"), "the written bootstrap config is valid");
    }

    @Test
    @Order(2)
    void eachDeviceRunsWithItsOwnRightsAndNoOthers() throws Exception {
        push("--sensor", "shared", "{\"driver\": \"simulated\", \"interval\": \"200ms\", \"lock\": \"" + FLEET + "/bus-1\"}");
        push("--device", "gw-a", "--sensor", "own", "{\"driver\": \"simulated\", \"interval\": \"500ms\"}");
        push("--device", "gw-b", "--sensor", "own", "{\"driver\": \"simulated\", \"interval\": \"500ms\"}");
        Path bootA = deviceBootstrap("gw-a", keyStore("gw-a"));
        Path bootB = deviceBootstrap("gw-b", keyStore("gw-b"));
        try (AgentProcess a = AgentProcess.start(work.resolve("gw-a.log"), "run", "--config", bootA.toString());
             AgentProcess b = AgentProcess.start(work.resolve("gw-b.log"), "run", "--config", bootB.toString());
             CuratorFramework operator = client(operatorConfig)) {
            for (String d : List.of("gw-a", "gw-b")) {
                AgentProcess p = d.equals("gw-a") ? a : b;
                Await.until(Duration.ofSeconds(60), d + " registered, its config applied and both sensors read", () -> {
                    try {
                        if (operator.checkExists().forPath("/meerkat/fleets/" + FLEET + "/members/" + d) == null) return false;
                        JsonNode s = Json.mapper().readTree(operator.getData().forPath("/meerkat/fleets/" + FLEET + "/devices/" + d + "/status"));
                        return s.path("sensors").path("shared").path("lastReadingAt").isTextual()
                                && s.path("sensors").path("own").path("lastReadingAt").isTextual() && s.path("config").path("errors").isEmpty();
                    } catch (Exception e) {
                        return false;
                    }
                }, p::log);
            }
            // The operator reads what the devices created: their members, through the fleet view.
            Path fleetList = work.resolve("fleet-list.out");
            assertEquals(0, AgentProcess.run(fleetList, Duration.ofSeconds(60), "fleet", "list", "--config", operatorConfig.toString(),
                    "--fleet", FLEET, "--json"));
            String listed = Files.readString(fleetList);
            JsonNode view = Json.mapper().readTree(listed.substring(listed.indexOf('{')));
            assertEquals(2, view.path("online").asInt(), view.toString());

            // Device A's own credentials, as its agent holds them.
            BootstrapConfig.ZooKeeper zkA = BootstrapConfig.load(bootA).zookeeper();
            try (CuratorFramework asA = ZooKeeperClients.forDevice(zkA, new FleetPaths("/meerkat", FLEET, "gw-a"), ZooKeeperSecurity.of(zkA))) {
                asA.start();
                assertTrue(asA.blockUntilConnected(30, TimeUnit.SECONDS));
                String f = "/meerkat/fleets/" + FLEET;
                byte[] junk = "{}".getBytes(StandardCharsets.UTF_8);
                // What it may do.
                asA.getData().forPath(f + "/config/sensors/shared");
                asA.getData().forPath(f + "/devices/gw-a/config/sensors/own");
                asA.setData().forPath(f + "/devices/gw-a/firmware/report", junk);
                // What it may not.
                noAuth(() -> asA.setData().forPath(f + "/devices/gw-b/status", junk), "write B's status");
                noAuth(() -> asA.getData().forPath(f + "/devices/gw-b/status"), "read B's status");
                noAuth(() -> asA.getData().forPath(f + "/devices/gw-b/config/sensors/own"), "read B's config");
                noAuth(() -> asA.setData().forPath(f + "/devices/gw-b/firmware/report", junk), "write B's firmware report");
                noAuth(() -> asA.delete().forPath(f + "/members/gw-b"), "delete B's member");
                noAuth(() -> asA.setData().forPath(f + "/members/gw-b", junk), "rewrite B's member");
                noAuth(() -> asA.setData().forPath(f + "/config/sensors/shared", junk), "change a fleet config document");
                noAuth(() -> asA.create().forPath(f + "/config/sensors/evil", junk), "add a fleet config document");
                noAuth(() -> asA.delete().forPath(f + "/config/sensors/shared"), "delete a fleet config document");
                noAuth(() -> asA.setData().forPath(f + "/devices/gw-a/config/sensors/own", junk), "change its own config");
                noAuth(() -> asA.create().forPath(f + "/devices/gw-a/config/sensors/evil", junk), "add to its own config");
                // (Firmware targets are the fleet leader's to write, and any device may lead: docs/security.md says what
                // stops a stolen gateway there, the artifact's signature.)
                noAuth(() -> asA.create().forPath(f + "/rollouts/evil", junk), "start a rollout");
                noAuth(() -> asA.getChildren().forPath(f + "/devices"), "list the fleet's devices");
                noAuth(() -> asA.create().forPath("/meerkat/fleets/other", junk), "create a fleet");
            }
            // What the agent says of itself holds no secret either.
            Path status = work.resolve("gw-a-status.out");
            assertEquals(0, AgentProcess.run(status, Duration.ofSeconds(60), "status", "--config", bootA.toString(), "--json"));
            printed.add(Files.readString(status));
            // Both read the shared sensor above, which needs its lock: both could queue on it.
            for (AgentProcess p : List.of(a, b)) {
                p.signal("TERM");
                assertEquals(0, p.waitFor(Duration.ofSeconds(20)));
                printed.add(p.log());
                assertFalse(p.log().contains("NoAuth"), "a right the model forgot:\n" + p.log());
            }
        }
    }

    @Test
    @Order(3)
    void aCertificateFromAnotherCaIsRefusedWithAClearMessage() throws Exception {
        Path boot = deviceBootstrap("gw-a", keyStore("intruder"));
        Files.writeString(boot, Files.readString(boot).replace("state-gw-a", "state-intruder"));
        try (AgentProcess p = AgentProcess.start(work.resolve("intruder.log"), "run", "--config", boot.toString())) {
            Await.until(Duration.ofSeconds(90), "the refusal in the log", () -> p.log().contains("refused this client's certificate"), p::log);
            assertTrue(p.alive(), "it keeps running, from its last good config or waiting");
            printed.add(p.log());
        }
        Path doctor = work.resolve("intruder-doctor.out");
        assertEquals(1, AgentProcess.run(doctor, Duration.ofSeconds(90), "doctor", "--config", boot.toString()));
        String out = Files.readString(doctor);
        printed.add(out);
        assertTrue(out.contains("refused this client's certificate"), out);
    }

    @Test
    @Order(4)
    void doctorSaysTheDeviceIsAuthorised() throws Exception {
        Path boot = deviceBootstrap("gw-b", keyStore("gw-b"));
        Path doctor = work.resolve("gw-b-doctor.out");
        int code = AgentProcess.run(doctor, Duration.ofSeconds(90), "doctor", "--config", boot.toString(), "--json");
        String out = Files.readString(doctor);
        printed.add(out);
        JsonNode checks = Json.mapper().readTree(out.substring(out.indexOf('{')));
        String acl = null, election = null;
        for (JsonNode c : checks.path("checks")) {
            if (c.path("check").asText().equals("zookeeper acl")) acl = c.path("result").asText();
            if (c.path("check").asText().equals("zookeeper election")) election = c.path("result").asText();
        }
        assertEquals("ok", acl, out);
        assertEquals("ok", election, "provision made the candidate slots' parent, which the fleet may create in: " + out);
        assertTrue(code == 0 || code == 1, out);
    }

    private static void noAuth(ThrowingRunnable r, String what) {
        assertThrows(KeeperException.NoAuthException.class, r::run, "device A could " + what);
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static JsonNode provisionJson(String device, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("provision", "--config", operatorConfig.toString(), "--fleet", FLEET, "--device", device,
                "--out", provision.toString(), "--json"));
        args.addAll(List.of(more));
        Path out = work.resolve("provision-" + device + "-" + System.nanoTime() + ".out");
        int code = AgentProcess.run(out, Duration.ofSeconds(90), args.toArray(String[]::new));
        String text = Files.readString(out);
        printed.add(text);
        assertEquals(0, code, text);
        return Json.mapper().readTree(text.substring(text.indexOf('{')));
    }

    private static void push(String... args) throws Exception {
        String json = args[args.length - 1];
        Path doc = Files.writeString(work.resolve("doc-" + System.nanoTime() + ".json"), json);
        List<String> cmd = new ArrayList<>(List.of("config", "push", "--config", operatorConfig.toString(), "--fleet", FLEET));
        cmd.addAll(List.of(args).subList(0, args.length - 1));
        cmd.add(doc.toString());
        Path out = work.resolve("push-" + System.nanoTime() + ".out");
        assertEquals(0, AgentProcess.run(out, Duration.ofSeconds(90), cmd.toArray(String[]::new)), Files.readString(out));
    }

    /** The device's bootstrap config: the provisioned credentials, the CA of the servers, and {@code keyStore} lines if any. */
    private static Path deviceBootstrap(String device, String keyStore) throws Exception {
        Path state = work.resolve("state-" + device);
        return Files.writeString(work.resolve(device + ".yaml"), """
                device:
                  id: %s
                  fleet: %s
                zookeeper:
                  connect: %s
                  sessionTimeout: 10s
                  tls:
                    trustStore: %s
                %s  auth:
                    scheme: digest
                    credentialsFile: %s
                mqtt:
                  uri: %s
                storage:
                  dir: %s
                admin:
                  socket: %s
                """.formatted(device, FLEET, zk.secureConnectString(), certs.file("zk-ca.pem"), keyStore,
                provision.resolve(FLEET + "/" + device + "/zk.secret"), broker.uri(), state, state.resolve("admin.sock")));
    }

    private static String keyStore(String name) {
        return "    keyStore: " + certs.file(name + ".p12") + "\n    keyStorePasswordFile: " + certs.file(name + ".p12.pass") + "\n";
    }

    private static CuratorFramework client(Path config) throws Exception {
        CuratorFramework c = ZooKeeperClients.create(BootstrapConfig.loadZooKeeper(config));
        c.start();
        assertTrue(c.blockUntilConnected(30, TimeUnit.SECONDS));
        return c;
    }

    private static List<String> passwordsIn(Path dir) throws Exception {
        List<String> out = new ArrayList<>();
        if (dir == null || !Files.isDirectory(dir)) return out;
        try (var files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".secret")).toList()) {
                for (String line : Files.readAllLines(f)) {
                    if (line.isBlank() || line.startsWith("#")) continue;
                    out.add(line.contains(":") ? line.substring(line.indexOf(':') + 1) : line);
                }
            }
        }
        return out;
    }
}
