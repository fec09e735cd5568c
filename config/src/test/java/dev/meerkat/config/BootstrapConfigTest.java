package dev.meerkat.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootstrapConfigTest {
    @TempDir
    Path dir;

    Path file(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void readsTheSpecExampleWithDefaults() throws Exception {
        BootstrapConfig c = BootstrapConfig.load(file("agent.yaml", """
                device:
                  id: gw-0042
                  fleet: greenhouse-a
                zookeeper:
                  connect: zk1:2181,zk2:2181,zk3:2181
                mqtt:
                  uri: ssl://broker.example:8883
                """));
        assertEquals("gw-0042", c.device().id());
        assertEquals("greenhouse-a", c.device().fleet());
        assertEquals("/meerkat", c.zookeeper().root());
        assertEquals(Duration.ofSeconds(15), c.zookeeper().sessionTimeout());
        assertEquals("gw-0042", c.mqttClientId());
        assertEquals(Path.of("/var/lib/meerkat"), c.storageDir());
        assertEquals(Path.of("/run/meerkat/admin.sock"), c.adminSocket());
    }

    @Test
    void firmwareNamesTheKeyAndAnAbsoluteUpdater() throws Exception {
        String base = """
                device: {id: a, fleet: b}
                zookeeper: {connect: "h:1"}
                mqtt: {uri: "tcp://h:1883"}
                """;
        BootstrapConfig c = BootstrapConfig.load(file("a.yaml", base + """
                firmware:
                  publicKey: keys/fleet.pub
                  command: [/usr/bin/rauc, install, "{file}"]
                """));
        assertEquals(dir.resolve("keys/fleet.pub"), c.firmware().publicKey().orElseThrow());
        assertEquals(List.of("/usr/bin/rauc", "install", "{file}"), c.firmware().command());
        assertTrue(BootstrapConfig.load(file("b.yaml", base)).firmware().publicKey().isEmpty());
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapConfig.load(file("c.yaml", base + """
                firmware:
                  command: [rauc, 7]
                  signer: x
                """)));
        List<String> paths = e.errors().stream().map(ConfigError::path).toList();
        assertEquals(List.of("$.firmware.command[1]", "$.firmware.command[0]", "$.firmware.signer"), paths, e.getMessage());
    }

    /** A password in the URI would go to every retry line and to doctor: refused, and never echoed. */
    @Test
    void metricsListenIsOffWhenAbsentAndAHostAndPortWhenGiven() throws Exception {
        String base = """
                device: {id: a, fleet: b}
                zookeeper: {connect: "h:1"}
                mqtt: {uri: "tcp://h:1883"}
                """;
        assertTrue(BootstrapConfig.load(file("m0.yaml", base)).metrics().isEmpty());
        assertEquals(new BootstrapConfig.Metrics("127.0.0.1", 9464),
                BootstrapConfig.load(file("m1.yaml", base + "metrics: {listen: \"127.0.0.1:9464\"}\n")).metrics().orElseThrow());
        assertEquals(new BootstrapConfig.Metrics("::1", 9464),
                BootstrapConfig.load(file("m2.yaml", base + "metrics: {listen: \"[::1]:9464\"}\n")).metrics().orElseThrow());
        assertEquals("0.0.0.0:9464", BootstrapConfig.load(file("m3.yaml", base + "metrics: {listen: \"0.0.0.0:9464\"}\n")).metrics().orElseThrow().toString());
        for (String bad : new String[] {"9464", "host:0", "host:70000", "host", "http://host:9464"}) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> BootstrapConfig.load(file("bad.yaml", base + "metrics: {listen: \"" + bad + "\"}\n")));
            assertTrue(e.errors().toString().contains("$.metrics.listen: must be HOST:PORT with a port from 1 to 65535"), bad + ": " + e.errors());
        }
        ConfigException none = assertThrows(ConfigException.class, () -> BootstrapConfig.load(file("none.yaml", base + "metrics: {}\n")));
        assertTrue(none.errors().toString().contains("$.metrics.listen: is required, or textfile"), none.errors().toString());
        BootstrapConfig.Metrics file = BootstrapConfig.load(file("t.yaml", base + "metrics: {textfile: /run/textfile/meerkat.prom}\n"))
                .metrics().orElseThrow();
        assertTrue(!file.listens() && file.textfile().orElseThrow().equals(java.nio.file.Path.of("/run/textfile/meerkat.prom")));
        assertEquals(java.time.Duration.ofSeconds(15), file.textfileInterval());
        ConfigException prom = assertThrows(ConfigException.class,
                () -> BootstrapConfig.load(file("p.yaml", base + "metrics: {textfile: /run/textfile/meerkat.txt}\n")));
        assertTrue(prom.errors().toString().contains("$.metrics.textfile: must end in .prom"), prom.errors().toString());
    }

    @Test
    void userInfoInTheMqttUriIsRefusedWithoutEchoingIt() throws Exception {
        for (String uri : new String[] {"ssl://gwuser:PASSWORD@broker.example:8883", "tcp://gwuser:PASSWORD@h:1883", "tcp://PASSWORD@h:1883"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> BootstrapConfig.load(file("u.yaml", """
                    device: {id: a, fleet: b}
                    zookeeper: {connect: "h:1"}
                    mqtt: {uri: "%s"}
                    """.formatted(uri))));
            String all = e.errors().toString();
            assertTrue(all.contains("$.mqtt.uri: must not hold a user name or password"), all);
            assertTrue(all.contains("mqtt.usernameFile and mqtt.passwordFile"), all);
            assertTrue(!all.contains("PASSWORD") && !all.contains("gwuser"), "the secret is echoed: " + all);
        }
        assertEquals("ssl://***@broker.example:8883/x", BootstrapConfig.masked("ssl://u:p@ss@broker.example:8883/x"));
        assertEquals("tcp://h:1883", BootstrapConfig.masked("tcp://h:1883"));
    }

    @Test
    void readsJsonToo() throws Exception {
        BootstrapConfig c = BootstrapConfig.load(file("agent.json",
                "{\"device\":{\"id\":\"a\",\"fleet\":\"b\"},\"zookeeper\":{\"connect\":\"h:1\",\"root\":\"/x/y\"},"
                        + "\"mqtt\":{\"uri\":\"tcp://h:1883\",\"clientId\":\"c-1\"},\"storage\":{\"dir\":\"state\"}}"));
        assertEquals("/x/y", c.zookeeper().root());
        assertEquals("c-1", c.mqttClientId());
        assertEquals(dir.resolve("state"), c.storageDir(), "relative paths are taken from the config's directory");
    }

    @Test
    void reportsEveryErrorWithItsKey() throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapConfig.load(file("agent.yaml", """
                device:
                  id: GW_1
                zookeeper:
                  connect: "a:1, b:2"
                  sessionTimeout: 15
                  root: meerkat
                mqtt:
                  uri: http://broker
                  colour: red
                storage: {}
                extra: 1
                """)));
        List<String> paths = e.errors().stream().map(ConfigError::path).toList();
        assertEquals(List.of("$.device.id", "$.device.fleet", "$.zookeeper.connect", "$.zookeeper.root",
                "$.zookeeper.sessionTimeout", "$.mqtt.uri", "$.mqtt.colour", "$.extra"), paths, e.getMessage());
        assertTrue(e.getMessage().contains("$.zookeeper.sessionTimeout: must be a string, got a number 15"), e.getMessage());
        assertTrue(e.getMessage().contains("$.mqtt.colour: is not a known key"), e.getMessage());
    }

    @Test
    void tlsAndAPasswordNeedAnSslUri() throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapConfig.load(file("agent.yaml", """
                device:
                  id: gw-1
                  fleet: f
                zookeeper:
                  connect: h:2181
                mqtt:
                  uri: tcp://broker:1883
                  passwordFile: pass
                  tls:
                    trustStore: ca.p12
                """)));
        String all = e.getMessage();
        org.junit.jupiter.api.Assertions.assertTrue(all.contains("$.mqtt.tls: needs an ssl:// uri"), all);
        org.junit.jupiter.api.Assertions.assertTrue(all.contains("$.mqtt.passwordFile: needs an ssl:// uri"), all);
    }

    @Test
    void zooKeeperDigestCredentialsNeedTls() throws Exception {
        String base = """
                device:
                  id: gw-1
                  fleet: f
                zookeeper:
                  connect: h:2281
                  auth:
                    scheme: digest
                    credentialsFile: zk.secret
                %smqtt:
                  uri: tcp://broker:1883
                """;
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapConfig.load(file("agent.yaml", base.formatted(""))));
        assertTrue(e.getMessage().contains("$.zookeeper.auth: needs zookeeper.tls: the digest scheme sends the password to the server"),
                e.getMessage());
        BootstrapConfig ok = BootstrapConfig.load(file("agent.yaml", base.formatted("  tls:\n    trustStore: ca.pem\n")));
        assertEquals("digest", ok.zookeeper().auth().orElseThrow().scheme());
        assertTrue(ok.zookeeper().tls().orElseThrow().trustStore().isAbsolute(), "relative to the file");
    }

    @Test
    void namesTheLineOfASyntaxError() throws Exception {
        ConfigException e = assertThrows(ConfigException.class,
                () -> BootstrapConfig.load(file("agent.json", "{\"device\": {\"id\": \"a\",}}")));
        assertTrue(e.getMessage().contains("does not parse at line 1"), e.getMessage());
    }

    @Test
    void saysWhatToDoWhenTheFileIsMissingOrMisnamed() {
        ConfigException missing = assertThrows(ConfigException.class, () -> BootstrapConfig.load(dir.resolve("none.yaml")));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        ConfigException misnamed = assertThrows(ConfigException.class, () -> BootstrapConfig.load(dir.resolve("agent.txt")));
        assertTrue(misnamed.getMessage().contains("must end in .yaml, .yml or .json"), misnamed.getMessage());
    }

    @Test
    void refusesDuplicateKeys() throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapConfig.load(file("agent.yaml",
                "device:\n  fleet: a\n  fleet: b\n")));
        assertTrue(e.getMessage().contains("Duplicate field 'fleet'"), e.getMessage());
    }
}
