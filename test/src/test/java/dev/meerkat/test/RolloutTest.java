package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fleet;
import dev.meerkat.test.fixtures.Servers;
import dev.meerkat.test.fixtures.SupervisedAgent;
import dev.meerkat.testing.Await;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Firmware rollouts (SPEC §7) across a small fleet of real agent processes, each run the way
 * systemd runs it (restarted after exit 75 and after a crash), on a 3-server ensemble and
 * mosquitto, with the {@code package} installer and artifacts made and signed here: a whole
 * rollout with its leader killed in the middle of a wave; a bad signature and a bad checksum; a
 * version that cannot start (rolled back by the launcher, counted, the rollout paused at its
 * threshold); abort; a device that never reports.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RolloutTest {
    static final String FLEET = "ro";
    static final List<String> DEVICES = List.of("gw-1", "gw-2", "gw-3", "gw-4");
    static Servers servers;
    static Fleet fleet;
    static Path work;
    static KeyPair fleetKey;
    static final Map<String, SupervisedAgent> agents = new LinkedHashMap<>();
    static Path operatorConfig;
    static final Map<String, Path> boots = new LinkedHashMap<>();

    @BeforeAll
    static void fleetOfFour() throws Exception {
        servers = Servers.start("rollout");
        work = servers.work();
        fleet = new Fleet(FLEET, servers.zk(), work);
        fleet.fleetSensor("climate", "{\"driver\": \"simulated\", \"interval\": \"300ms\"}");
        fleetKey = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path pub = work.resolve("fleet-key.pem");
        Files.writeString(pub, "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(fleetKey.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
        // The command installer's updater: records what it was given, fails for a firmware named "*-bad".
        Path updater = work.resolve("updater.sh");
        Files.writeString(updater, """
                #!/bin/sh
                echo "$1 $2" >> "$0.calls"
                case "$2" in *-bad) echo "no space left on the other slot"; exit 3 ;; esac
                echo "installed $2"
                """);
        updater.toFile().setExecutable(true);
        for (String d : DEVICES) {
            Path boot = fleet.bootstrap(d, servers.zk().connectString(), "6s", servers.mqtt().uri(), "",
                    "firmware:\n  publicKey: " + pub + "\n  command: [" + updater + ", \"{file}\", \"{firmware}\"]\n");
            if (operatorConfig == null) operatorConfig = boot;
            boots.put(d, boot);
            agents.put(d, new SupervisedAgent(fleet.log(d), Map.of("MEERKAT_VERSIONS_DIR", versions(d).toString()),
                    Duration.ofSeconds(1), "run", "--config", boot.toString()));
        }
        for (String d : DEVICES) {
            Await.until(Duration.ofSeconds(60), d + " registered", () -> fleet.member(d) != null, agents.get(d)::log);
        }
    }

    @AfterAll
    static void stop() {
        agents.values().forEach(SupervisedAgent::close);
        if (fleet != null) fleet.close();
        if (servers != null) servers.close();
    }

    static Path versions(String device) {
        return fleet.stateDir(device).resolve("versions");
    }

    @Test
    @Order(1)
    void aWholeRolloutSurvivesItsLeaderKilledInTheMiddleOfAWave() throws Exception {
        Path artifact = distributionZip("1.5.0", false);
        create("r1", "1.5.0", artifact, signature(artifact, fleetKey.getPrivate()), sha256(artifact), "[1, 2, \"100%\"]", "0", "2m");

        // Wait for the second wave, then kill the leader's JVM (systemd starts it again a second later).
        Await.until(Duration.ofSeconds(120), "the second wave", () -> state("r1").path("waves").size() >= 2, this::logs);
        JsonNode before = state("r1");
        String leader = before.path("leader").asText();
        long epoch = before.path("epoch").asLong();
        assertTrue(DEVICES.contains(leader), "the state names its leader: " + before);
        agents.get(leader).crash();

        Await.until(Duration.ofSeconds(240), "rollout r1 completed", () -> "completed".equals(state("r1").path("status").asText()), this::logs);
        JsonNode done = state("r1");
        assertTrue(done.path("epoch").asLong() > epoch, "a new term finished the rollout: " + done);
        assertEquals(0, done.path("failures").asInt(), done.toString());
        assertEquals(3, done.path("waves").size());
        List<String> waved = new ArrayList<>();
        done.path("waves").forEach(w -> w.path("devices").forEach(d -> waved.add(d.asText())));
        assertEquals(DEVICES.stream().sorted().toList(), waved.stream().sorted().toList(), "each device in exactly one wave");
        assertEquals(List.of(1, 1, 2), List.of(done.path("waves").get(0).path("devices").size(),
                done.path("waves").get(1).path("devices").size(), done.path("waves").get(2).path("devices").size()));
        for (String d : DEVICES) {
            assertEquals("healthy", done.path("devices").path(d).path("state").asText(), d + ": " + done);
            JsonNode report = report(d);
            assertEquals("1.5.0", report.path("running").asText(), d + " " + report);
            // A device that was itself killed mid-download starts that step again; it installs once, and ends healthy.
            List<String> states = states(report);
            assertEquals(List.of("installing", "restarting", "healthy"), states.subList(states.size() - 3, states.size()), d + ": " + report);
            assertEquals(1, states.stream().filter("installing"::equals).count(), d + ": " + report);
            Await.until(Duration.ofSeconds(30), d + " registered with firmware 1.5.0",
                    () -> "1.5.0".equals(member(d).path("firmware").asText()));
            assertEquals("1.5.0", Files.readSymbolicLink(versions(d).resolve("current")).toString());
            // Installed once: no device was updated twice, whatever the leader did.
            assertEquals(1, count(agents.get(d).log(), "firmware 1.5.0 installed beside"), d + " installed more than once");
        }
        assertTrue(agents.get(leader).exits().contains(137), "the leader was killed: " + agents.get(leader).exits());

        // meerkat status on each gateway: one leads, all name it, each runs 1.5.0.
        List<String> leading = new ArrayList<>();
        List<String> named = new ArrayList<>();
        for (String d : DEVICES) {
            Path out = work.resolve(d + "-status.json");
            Files.deleteIfExists(out);
            AgentProcess.run(out, Duration.ofSeconds(60), "status", "--json", "--config", boots.get(d).toString());
            JsonNode st = Json.mapper().readTree(Files.readString(out));
            if (st.path("leader").path("leading").asBoolean()) leading.add(d);
            named.add(st.path("leader").path("leader").asText());
            assertEquals("1.5.0", st.path("firmware").path("running").asText(), st.toString());
        }
        assertEquals(1, leading.size(), "one leader: " + leading);
        assertEquals(java.util.Collections.nCopies(DEVICES.size(), leading.get(0)), named);
    }

    @Test
    @Order(2)
    void aBadSignatureAndABadChecksumAreRefusedAndReported() throws Exception {
        Path artifact = distributionZip("1.6.0", false);
        PrivateKey stranger = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate();
        create("r2", "1.6.0", artifact, signature(artifact, stranger), sha256(artifact), "[1]", "\"100%\"", "2m");
        JsonNode r2 = awaitFinal("r2");
        String d2 = r2.path("waves").get(0).path("devices").get(0).asText();
        assertEquals("failed", r2.path("devices").path(d2).path("state").asText(), r2.toString());
        assertTrue(r2.path("devices").path(d2).path("reason").asText().contains("signature does not verify"), r2.toString());
        assertEquals("completed", r2.path("status").asText());

        create("r3", "1.6.0", artifact, signature(artifact, fleetKey.getPrivate()), "0".repeat(64), "[1]", "\"100%\"", "2m");
        JsonNode r3 = awaitFinal("r3");
        String d3 = r3.path("waves").get(0).path("devices").get(0).asText();
        assertTrue(r3.path("devices").path(d3).path("reason").asText().contains("SHA-256 mismatch"), r3.toString());
        JsonNode report = report(d3);
        assertEquals("failed", report.path("state").asText());
        assertEquals(List.of("pending", "downloading", "verifying", "failed"), states(report), report.toString());
        // Nothing was installed: both still run 1.5.0.
        for (String d : List.of(d2, d3)) {
            assertEquals("1.5.0", Files.readSymbolicLink(versions(d).resolve("current")).toString());
            assertTrue(Files.notExists(versions(d).resolve("1.6.0")), d + " unpacked a refused artifact");
        }
    }

    @Test
    @Order(3)
    void aVersionThatCannotStartIsRolledBackCountedAndPausesTheRolloutThenAbort() throws Exception {
        Path broken = distributionZip("1.7.0", true);
        create("r4", "1.7.0", broken, signature(broken, fleetKey.getPrivate()), sha256(broken), "[1, \"100%\"]", "0", "2m");
        Await.until(Duration.ofSeconds(180), "r4 paused", () -> "paused".equals(state("r4").path("status").asText()), this::logs);
        JsonNode s = state("r4");
        assertEquals(1, s.path("waves").size(), "nothing beyond the paused wave: " + s);
        String d = s.path("waves").get(0).path("devices").get(0).asText();
        assertEquals("rolled-back", s.path("devices").path(d).path("state").asText(), s.toString());
        assertTrue(s.path("devices").path(d).path("reason").asText().contains("started 3 times"), s.toString());
        assertTrue(s.path("reason").asText().contains("maxFailures"), s.toString());
        assertEquals(1, s.path("failures").asInt());
        // Back on 1.5.0, registered again, and the broken version was started exactly 3 times plus the first.
        Await.until(Duration.ofSeconds(60), d + " back on 1.5.0", () -> "1.5.0".equals(member(d).path("firmware").asText()));
        assertEquals("1.5.0", Files.readSymbolicLink(versions(d).resolve("current")).toString());
        assertEquals(List.of(75, 1, 1, 1), agents.get(d).exits().subList(agents.get(d).exits().size() - 4, agents.get(d).exits().size()),
                "exit 75 into the new version, three failed starts: " + agents.get(d).exits());

        assertEquals(0, operator("abort", "r4"));
        Await.until(Duration.ofSeconds(20), "r4 aborted", () -> "aborted".equals(state("r4").path("status").asText()));
        assertEquals(1, state("r4").path("waves").size());
        // The version given up stays given up: installed once, reported rolled back, nothing pending.
        Thread.sleep(3000);
        assertEquals(1, count(agents.get(d).log(), "firmware 1.7.0 installed beside"), agents.get(d).log());
        assertEquals("rolled-back", report(d).path("state").asText(), report(d).toString());
        assertTrue(Files.notExists(versions(d).resolve("pending")));
        assertTrue(Files.notExists(versions(d).resolve("1.7.0")), "the version given up is removed");
        assertEquals("1.5.0", member(d).path("firmware").asText());
        for (String other : DEVICES) {
            if (!other.equals(d)) assertTrue(Files.notExists(versions(other).resolve("1.7.0")), other + " got an aborted rollout");
        }
    }

    @Test
    @Order(4)
    void aDeviceThatNeverReportsTimesOut() throws Exception {
        // A device that is not the leader stops answering (SIGSTOP) but is still registered when the wave is chosen.
        String leader = leaderNow();
        String silent = DEVICES.stream().filter(d -> !d.equals(leader)).findFirst().orElseThrow();
        agents.get(silent).current().signal("STOP");
        try {
            Path artifact = distributionZip("1.5.0", false);
            // 1.5.0 again: the others run it and report healthy at once; the silent one never reports.
            create("r5", "1.5.0", artifact, signature(artifact, fleetKey.getPrivate()), sha256(artifact), "[\"100%\"]", "0", "10s");
            Await.until(Duration.ofSeconds(60), "r5 paused", () -> "paused".equals(state("r5").path("status").asText()), this::logs);
            JsonNode s = state("r5");
            assertEquals("timed-out", s.path("devices").path(silent).path("state").asText(), s.toString());
            for (String d : DEVICES) {
                if (!d.equals(silent)) assertEquals("healthy", s.path("devices").path(d).path("state").asText(), s.toString());
            }
            // The operator's view of it.
            Path out = work.resolve("r5-status.json");
            assertEquals(0, AgentProcess.run(out, Duration.ofSeconds(60), "rollout", "status", "--config", operatorConfig.toString(), "--json", "r5"));
            String printed = Files.readString(out);
            assertTrue(printed.contains("\"timed-out\""), printed);
        } finally {
            agents.get(silent).current().signal("CONT");
        }
        assertEquals(0, operator("abort", "r5"));
    }

    @Test
    @Order(5)
    void theCommandInstallerHandsOverTheVerifiedArtifactAndMapsItsExitStatus() throws Exception {
        Path artifact = distributionZip("1.5.0", false);
        String sig = signature(artifact, fleetKey.getPrivate()), sha = sha256(artifact);
        createWith("r6", "os-2.0", artifact, sig, sha, "[1]", "\"100%\"", "2m", "command");
        JsonNode r6 = awaitFinal("r6");
        String ok = r6.path("waves").get(0).path("devices").get(0).asText();
        assertEquals("healthy", r6.path("devices").path(ok).path("state").asText(), r6.toString());
        assertEquals(List.of("pending", "downloading", "verifying", "installing", "healthy"), states(report(ok)));

        createWith("r7", "os-2.1-bad", artifact, sig, sha, "[1]", "\"100%\"", "2m", "command");
        JsonNode r7 = awaitFinal("r7");
        String bad = r7.path("waves").get(0).path("devices").get(0).asText();
        String reason = r7.path("devices").path(bad).path("reason").asText();
        assertTrue(reason.contains("exited 3") && reason.contains("no space left on the other slot"), r7.toString());

        // The updater got the verified artifact (in the agent's download directory) and the firmware name, once each.
        List<String> calls = Files.readAllLines(work.resolve("updater.sh.calls"));
        assertEquals(2, calls.size(), calls.toString());
        assertTrue(calls.get(0).matches(".*/firmware/downloads/r6-os-2\\.0\\.artifact os-2\\.0"), calls.toString());
        assertTrue(calls.get(1).endsWith(" os-2.1-bad"), calls.toString());
    }

    // --- helpers

    static void create(String id, String firmware, Path artifact, String signature, String sha, String waves, String maxFailures,
                       String healthTimeout) throws Exception {
        createWith(id, firmware, artifact, signature, sha, waves, maxFailures, healthTimeout, "package");
    }

    static void createWith(String id, String firmware, Path artifact, String signature, String sha, String waves, String maxFailures,
                           String healthTimeout, String installer) throws Exception {
        Path doc = work.resolve(id + ".json");
        Files.writeString(doc, """
                {"firmware": "%s",
                 "artifact": {"url": "%s", "sha256": "%s", "signature": "%s"},
                 "installer": "%s", "waves": %s, "maxFailures": %s, "healthTimeout": "%s"}
                """.formatted(firmware, artifact.toUri(), sha, signature, installer, waves, maxFailures, healthTimeout));
        Path out = work.resolve(id + "-create.log");
        assertEquals(0, AgentProcess.run(out, Duration.ofSeconds(60), "rollout", "create", "--config", operatorConfig.toString(), id,
                doc.toString()), Files.readString(out));
    }

    static int operator(String verb, String id) throws Exception {
        Path out = work.resolve(id + "-" + verb + ".log");
        return AgentProcess.run(out, Duration.ofSeconds(60), "rollout", verb, "--config", operatorConfig.toString(), id);
    }

    static JsonNode awaitFinal(String id) throws Exception {
        Await.until(Duration.ofSeconds(120), id + " over", () -> {
            String st = state(id).path("status").asText();
            return st.equals("completed") || st.equals("paused") || st.equals("aborted");
        }, () -> "");
        return state(id);
    }

    /** The device whose latch znode is lowest: the leader, as ZooKeeper has it now. */
    static String leaderNow() throws Exception {
        String election = "/fleets/" + FLEET + "/election";
        List<String> children = new ArrayList<>(fleet.operator().getChildren().forPath(election));
        children.sort(java.util.Comparator.comparing(c -> c.substring(c.length() - 10)));
        return new String(fleet.operator().getData().forPath(election + "/" + children.get(0)), StandardCharsets.UTF_8);
    }

    static JsonNode state(String id) {
        return read("/fleets/" + FLEET + "/rollouts/" + id + "/state");
    }

    static JsonNode report(String device) {
        return read("/fleets/" + FLEET + "/devices/" + device + "/firmware/report");
    }

    static JsonNode member(String device) {
        return read("/fleets/" + FLEET + "/members/" + device);
    }

    static JsonNode read(String path) {
        try {
            return Json.mapper().readTree(fleet.operator().getData().forPath(path));
        } catch (Exception e) {
            return Json.mapper().createObjectNode();
        }
    }

    static List<String> states(JsonNode report) {
        List<String> out = new ArrayList<>();
        report.path("history").forEach(h -> out.add(h.path("state").asText()));
        return out;
    }

    String logs() {
        StringBuilder b = new StringBuilder();
        agents.forEach((d, a) -> {
            String log = a.log();
            b.append("--- ").append(d).append(" (last 40 lines)\n");
            List<String> lines = log.lines().toList();
            lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(l -> b.append(l).append('\n'));
        });
        return b.toString();
    }

    static int count(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
        int n = 0;
        while (m.find()) n++;
        return n;
    }

    /** A zip of the build's distribution as version {@code version} (lib/ only); {@code broken}: its jars are garbage. */
    static Path distributionZip(String version, boolean broken) throws Exception {
        Path zip = work.resolve("meerkat-" + version + (broken ? "-broken" : "") + ".zip");
        if (Files.exists(zip)) return zip;
        Path lib = AgentProcess.distribution().resolve("lib");
        try (OutputStream file = Files.newOutputStream(zip); ZipOutputStream out = new ZipOutputStream(file);
             Stream<Path> jars = Files.list(lib)) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                byte[] data = broken ? "not a jar".getBytes(StandardCharsets.UTF_8) : Files.readAllBytes(jar);
                ZipEntry e = new ZipEntry("meerkat-" + version + "/lib/" + jar.getFileName());
                e.setMethod(ZipEntry.STORED); // jars are compressed already
                e.setSize(data.length);
                CRC32 crc = new CRC32();
                crc.update(data);
                e.setCrc(crc.getValue());
                out.putNextEntry(e);
                out.write(data);
                out.closeEntry();
            }
        }
        return zip;
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    static String signature(Path file, PrivateKey key) throws Exception {
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(key);
        s.update(Files.readAllBytes(file));
        return Base64.getEncoder().encodeToString(s.sign());
    }

}
