package dev.meerkat.agent.firmware;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DownloadAndVerifyTest {
    @TempDir
    Path dir;

    /** A server that hangs up halfway through the first response, then honours Range: the download resumes, not restarts. */
    @Test
    void anInterruptedHttpDownloadResumesWithARange() throws Exception {
        byte[] artifact = new byte[300_000];
        new Random(7).nextBytes(artifact);
        List<String> ranges = new CopyOnWriteArrayList<>();
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                for (int call = 1; call <= 2; call++) {
                    try (Socket s = server.accept()) {
                        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                        String range = "none";
                        for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("range:")) range = line.substring(6).trim();
                        }
                        ranges.add(range);
                        OutputStream out = s.getOutputStream();
                        if (call == 1) {
                            // Promise everything, send half, hang up.
                            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + artifact.length + "\r\nConnection: close\r\n\r\n")
                                    .getBytes(StandardCharsets.US_ASCII));
                            out.write(artifact, 0, artifact.length / 2);
                        } else {
                            int from = Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
                            out.write(("HTTP/1.1 206 Partial Content\r\nContent-Length: " + (artifact.length - from)
                                    + "\r\nContent-Range: bytes " + from + "-" + (artifact.length - 1) + "/" + artifact.length
                                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                            out.write(artifact, from, artifact.length - from);
                        }
                        out.flush();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            Path dest = dir.resolve("a.artifact");
            List<Long> progress = new ArrayList<>();
            Download.fetch("http://127.0.0.1:" + server.getLocalPort() + "/a.zip", dest, (b, total) -> progress.add(b), 3,
                    java.time.Duration.ofMillis(10));
            assertArrayEquals(artifact, Files.readAllBytes(dest));
            assertEquals(2, ranges.size(), "one cut-off response, one resumed: " + ranges);
            assertEquals("none", ranges.get(0));
            assertTrue(ranges.get(1).startsWith("bytes=") && !ranges.get(1).equals("bytes=0-"), "resumed from where it stopped: " + ranges);
            assertEquals(artifact.length, progress.get(progress.size() - 1));
            assertTrue(Files.notExists(dir.resolve("a.artifact.part")));
        }
    }

    @Test
    void aMissingFileFailsAfterBoundedAttempts() {
        IOException e = assertThrows(IOException.class,
                () -> Download.fetch(dir.resolve("nope.zip").toUri().toString(), dir.resolve("x"), (b, t) -> {}, 3, java.time.Duration.ofMillis(10)));
        assertTrue(e.getMessage().contains("after 3 attempts") && e.getMessage().contains("nope.zip"), e.getMessage());
    }

    @Test
    void theChecksumAndTheSignatureMustBothHold() throws Exception {
        KeyPair fleet = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path pem = dir.resolve("fleet.pem");
        Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(fleet.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
        Path artifact = dir.resolve("a.zip");
        Files.write(artifact, "firmware".getBytes(StandardCharsets.UTF_8));
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(artifact)));
        Verifier v = Verifier.load(pem);
        assertNull(v.problem(artifact, sha, sign(artifact, fleet)));
        assertTrue(v.problem(artifact, sha, sign(artifact, other)).contains("does not verify"));
        assertTrue(v.problem(artifact, "0".repeat(64), sign(artifact, fleet)).contains("SHA-256 mismatch"));
        // One byte changed after signing: the checksum catches it first.
        Files.write(artifact, "firmwarE".getBytes(StandardCharsets.UTF_8));
        assertTrue(v.problem(artifact, sha, sign(dir.resolve("a.zip"), fleet)).contains("SHA-256"));
        Path notAKey = dir.resolve("bad.pem");
        Files.writeString(notAKey, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        assertTrue(assertThrows(IOException.class, () -> Verifier.load(notAKey)).getMessage().contains("not an Ed25519 public key"));
    }

    @Test
    void aZipWithAnEntryOutsideItsDirectoryIsRefused() throws Exception {
        Path zip = dir.resolve("evil.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new ZipEntry("meerkat/lib/meerkat-agent-1.jar"));
            out.write(1);
            out.putNextEntry(new ZipEntry("../../escaped"));
            out.write(1);
        }
        Versions v = new Versions(dir.resolve("versions"));
        assertTrue(assertThrows(IOException.class, () -> v.unpack(zip, "9.9")).getMessage().contains("outside"));
        assertTrue(Files.notExists(dir.resolve("escaped")));
    }

    @Test
    void switchConfirmAndRollBackKeepTheLinksRight() throws Exception {
        Versions v = new Versions(dir.resolve("versions"));
        for (String version : List.of("1.0", "2.0")) {
            Path zip = dir.resolve(version + ".zip");
            try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
                out.putNextEntry(new ZipEntry("meerkat-" + version + "/lib/meerkat-agent-" + version + ".jar"));
                out.write(1);
            }
            v.unpack(zip, version);
        }
        v.switchTo("1.0", "{}".getBytes(StandardCharsets.UTF_8));
        v.confirm();
        assertEquals("1.0", v.current().orElseThrow());
        v.switchTo("2.0", "{\"firmware\":\"2.0\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals("2.0", v.current().orElseThrow());
        assertTrue(Files.exists(v.pending()));
        v.rollBack("health check failed");
        assertEquals("1.0", v.current().orElseThrow());
        assertTrue(Files.exists(v.rolledBack()) && Files.notExists(v.pending()));
        assertEquals("health check failed", Versions.read(v.rolledBackReason()));
        v.forgetRollBack();
        assertTrue(Files.notExists(v.dir.resolve("2.0")), "the version given up is pruned");
        assertTrue(Files.exists(v.dir.resolve("1.0/lib")));
    }

    private static String sign(Path file, KeyPair key) throws Exception {
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(key.getPrivate());
        s.update(Files.readAllBytes(file));
        return Base64.getEncoder().encodeToString(s.sign());
    }
}
