package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.coordination.testing.ZooKeeperEnsemble;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Certificates;
import dev.meerkat.test.fixtures.Fixtures;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.MosquittoBroker;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.testing.Await;
import dev.meerkat.testing.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The agent's MQTT connection with real TLS against mosquitto: mutual TLS with certificates made
 * for the test, a user name and password from files over TLS, a client certificate from another CA
 * refused, a secret file open to others refused at start, and no secret in the agent's output.
 */
class MqttSecurityTest {
    static final String STORE_PASSWORD = "store-secret-7f3a9", USER_PASSWORD = "user-secret-c41e2";
    static Path work;
    static ZooKeeperEnsemble zk;
    static MosquittoBroker broker;
    static Certificates certs;
    static int mtlsPort, passwordPort;

    @BeforeAll
    static void servers() throws Exception {
        work = Fixtures.workDir("mqtt-security");
        zk = Fixtures.ensemble(3, work.resolve("zk"));
        certs = new Certificates(work.resolve("certs"));
        certs.ca("ca");
        certs.ca("other-ca");
        certs.issue("ca", "server");
        certs.issue("ca", "gw-1");
        certs.issue("ca", "gw-2");
        certs.issue("other-ca", "intruder");
        certs.keyStore("gw-1", STORE_PASSWORD);
        certs.keyStore("gw-2", STORE_PASSWORD);
        certs.keyStore("intruder", STORE_PASSWORD);
        certs.trustStore("ca", STORE_PASSWORD);
        Path passwords = work.resolve("mosquitto.passwd");
        Files.writeString(passwords, "");
        Process p = new ProcessBuilder("mosquitto_passwd", "-b", passwords.toString(), "gw-1", USER_PASSWORD).redirectErrorStream(true).start();
        assertEquals(0, p.waitFor(), new String(p.getInputStream().readAllBytes()));
        // The per-gateway ACL of docs/security.md, word for word.
        Path acl = Files.writeString(work.resolve("meerkat.acl"), """
                # Each gateway writes its own status and readings (P/F/D/...), and nothing else.
                pattern write meerkat/+/%u/#
                # The consumers of the readings.
                user reader
                topic read meerkat/#
                """);
        mtlsPort = Ports.free();
        passwordPort = Ports.free();
        String tls = "cafile " + certs.file("ca.pem") + "\ncertfile " + certs.file("server.pem") + "\nkeyfile " + certs.file("server.key");
        broker = new MosquittoBroker(MosquittoBroker.find().orElseThrow(() -> new IllegalStateException("needs mosquitto: apt-get install -y mosquitto")),
                work.resolve("mqtt"), List.of(
                        "listener " + mtlsPort + " 127.0.0.1", tls, "require_certificate true", "use_identity_as_username true", "allow_anonymous false",
                        "acl_file " + acl,
                        "listener " + passwordPort + " 127.0.0.1", tls, "allow_anonymous false", "password_file " + passwords));
    }

    @AfterAll
    static void stop() {
        if (broker != null) broker.close();
        if (zk != null) zk.close();
    }

    static String tlsSection(String keyStoreName) {
        return "  tls:\n"
                + "    trustStore: " + certs.file("ca-trust.p12") + "\n"
                + "    trustStorePasswordFile: " + certs.file("ca-trust.p12.pass") + "\n"
                + (keyStoreName == null ? "" : "    keyStore: " + certs.file(keyStoreName + ".p12") + "\n"
                + "    keyStorePasswordFile: " + certs.file(keyStoreName + ".p12.pass") + "\n");
    }

    static void assertNoSecrets(String log) {
        assertFalse(log.contains(STORE_PASSWORD), "a store password in the output");
        assertFalse(log.contains(USER_PASSWORD), "the MQTT password in the output");
    }

    @Test
    void mutualTlsDeliversReadingsAndNoSecretIsPrinted() throws Exception {
        try (Fleet fleet = new Fleet("mtls", zk, work);
             RecordingSubscriber rec = new RecordingSubscriber(broker.uri(), "meerkat/mtls/gw-1/sensors/#", 1)) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"100ms\"}");
            Path boot = fleet.bootstrap("gw-1", zk.connectString(), "10s", "ssl://127.0.0.1:" + mtlsPort, tlsSection("gw-1"));
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                rec.await(Duration.ofSeconds(30), 5, m -> true);
                agent.signal("TERM");
                assertEquals(0, agent.waitFor(Duration.ofSeconds(15)));
                assertNoSecrets(agent.log());
            }
            // Under the broker's ACL another gateway's certificate writes its own topics, not gw-1's.
            try (RecordingSubscriber all = new RecordingSubscriber(broker.uri(), "meerkat/mtls/#", 1)) {
                var other = new org.eclipse.paho.client.mqttv3.MqttClient("ssl://127.0.0.1:" + mtlsPort, "gw-2",
                        new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
                var options = new org.eclipse.paho.client.mqttv3.MqttConnectOptions();
                options.setSocketFactory(sslFactory("gw-2"));
                other.connect(options);
                other.publish("meerkat/mtls/gw-2/sensors/a", "{\"own\": true}".getBytes(), 1, false);
                all.await(Duration.ofSeconds(10), 1, m -> m.topic().equals("meerkat/mtls/gw-2/sensors/a"));
                try {
                    // mosquitto drops the publish, or (2.0 with MQTT 3.1.1) ends the connection.
                    other.publish("meerkat/mtls/gw-1/sensors/a", "{\"forged\": true}".getBytes(), 1, false);
                    other.disconnect();
                } catch (org.eclipse.paho.client.mqttv3.MqttException refused) {
                    // refused: as it should be
                }
                other.close(true);
                Thread.sleep(1000);
                assertTrue(all.messages().stream().noneMatch(m -> m.text().contains("forged")), "gw-2 wrote under gw-1's topics");
            }
        }
    }

    static javax.net.ssl.SSLSocketFactory sslFactory(String name) throws Exception {
        char[] pw = STORE_PASSWORD.toCharArray();
        var kmf = javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(java.security.KeyStore.getInstance(certs.file(name + ".p12").toFile(), pw), pw);
        var tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(java.security.KeyStore.getInstance(certs.file("ca-trust.p12").toFile(), pw));
        var ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx.getSocketFactory();
    }

    @Test
    void aPasswordFromAFileOverTlsIsAcceptedAndAWrongOneRefused() throws Exception {
        try (Fleet fleet = new Fleet("password", zk, work);
             RecordingSubscriber rec = new RecordingSubscriber(broker.uri(), "meerkat/password/+/sensors/#", 1)) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"100ms\"}");
            Path user = Files.writeString(work.resolve("user"), "gw-1\n");
            Path good = Certificates.secret(work.resolve("good.pass"), USER_PASSWORD);
            Path bad = Certificates.secret(work.resolve("bad.pass"), "not-the-password");
            String uri = "ssl://127.0.0.1:" + passwordPort;
            Path bootGood = fleet.bootstrap("gw-1", zk.connectString(), "10s", uri,
                    tlsSection(null) + "  usernameFile: " + user + "\n  passwordFile: " + good + "\n");
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", bootGood.toString())) {
                rec.await(Duration.ofSeconds(30), 5, m -> m.topic().contains("/gw-1/"));
                agent.signal("TERM");
                agent.waitFor(Duration.ofSeconds(15));
                assertNoSecrets(agent.log());
            }
            Path bootBad = fleet.bootstrap("gw-2", zk.connectString(), "10s", uri,
                    tlsSection(null) + "  usernameFile: " + user + "\n  passwordFile: " + bad + "\n");
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-2"), "run", "--config", bootBad.toString())) {
                Await.until(Duration.ofSeconds(30), "the broker's refusal in the log", () -> agent.log().contains("mqtt not connected"), agent::log);
                assertTrue(agent.log().contains("Not authorized") || agent.log().contains("not authorized") || agent.log().contains("(reason 5)"), agent.log());
                assertTrue(rec.on("meerkat/password/gw-2/sensors/a").isEmpty());
                assertFalse(agent.log().contains("not-the-password"));
            }
        }
    }

    @Test
    void aClientCertificateFromAnotherCaIsRefusedWithAClearMessage() throws Exception {
        try (Fleet fleet = new Fleet("intruder", zk, work);
             RecordingSubscriber rec = new RecordingSubscriber(broker.uri(), "meerkat/intruder/#", 1)) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"100ms\"}");
            Path boot = fleet.bootstrap("gw-1", zk.connectString(), "10s", "ssl://127.0.0.1:" + mtlsPort, tlsSection("intruder"));
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                Await.until(Duration.ofSeconds(30), "the refusal in the log", () -> agent.log().contains("mqtt not connected"), agent::log);
                Thread.sleep(2000);
                assertTrue(agent.alive(), "it keeps trying, sampling into its journal");
                assertTrue(rec.on("meerkat/intruder/gw-1/sensors/a").isEmpty(), "nothing got through");
                assertTrue(agent.log().contains("SSL") || agent.log().contains("certificate") || agent.log().contains("handshake"), agent.log());
                assertNoSecrets(agent.log());
            }
        }
    }

    @Test
    void pemFilesServeAsStoresAndAKeyOpenToOthersStopsTheStart() throws Exception {
        // The gateway's certificate and its unencrypted key in one PEM file, the CA as a PEM trust store.
        Path combined = work.resolve("gw-1-combined.pem");
        Files.writeString(combined, Files.readString(certs.file("gw-1.pem")) + Files.readString(certs.file("gw-1.key")));
        Files.setPosixFilePermissions(combined, PosixFilePermissions.fromString("rw-------"));
        String pem = "  tls:\n    trustStore: " + certs.file("ca.pem") + "\n    keyStore: " + combined + "\n";
        try (Fleet fleet = new Fleet("pem", zk, work);
             RecordingSubscriber rec = new RecordingSubscriber(broker.uri(), "meerkat/pem/gw-1/sensors/#", 1)) {
            fleet.fleetSensor("a", "{\"driver\": \"simulated\", \"interval\": \"100ms\"}");
            Path boot = fleet.bootstrap("gw-1", zk.connectString(), "10s", "ssl://127.0.0.1:" + mtlsPort, pem);
            try (AgentProcess agent = AgentProcess.start(fleet.log("gw-1"), "run", "--config", boot.toString())) {
                rec.await(Duration.ofSeconds(30), 5, m -> true);
                agent.signal("TERM");
                assertEquals(0, agent.waitFor(Duration.ofSeconds(15)));
            }
            Files.setPosixFilePermissions(combined, PosixFilePermissions.fromString("rw-r--r--"));
            Path log = work.resolve("pem-open.log");
            assertEquals(1, AgentProcess.run(log, Duration.ofSeconds(60), "run", "--config", boot.toString()));
            assertTrue(Files.readString(log).contains("mqtt.tls.keyStore: " + combined + " is open to its group or others"), Files.readString(log));
        }
    }

    @Test
    void aSecretFileOpenToOthersStopsTheStart() throws Exception {
        try (Fleet fleet = new Fleet("perms", zk, work)) {
            Path open = Certificates.secret(work.resolve("open.pass"), USER_PASSWORD);
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
            Path user = Files.writeString(work.resolve("user2"), "gw-1\n");
            Path boot = fleet.bootstrap("gw-1", zk.connectString(), "10s", "ssl://127.0.0.1:" + passwordPort,
                    tlsSection(null) + "  usernameFile: " + user + "\n  passwordFile: " + open + "\n");
            Path log = fleet.log("gw-1");
            assertEquals(1, AgentProcess.run(log, Duration.ofSeconds(60), "run", "--config", boot.toString()));
            String out = Files.readString(log);
            assertTrue(out.contains("mqtt.passwordFile: " + open + " is open to its group or others (rw-r--r--)"), out);
            assertTrue(out.contains("chmod 600"), out);
            assertNoSecrets(out);
        }
    }
}
