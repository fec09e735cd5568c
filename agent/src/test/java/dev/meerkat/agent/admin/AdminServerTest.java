package dev.meerkat.agent.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No client of the admin socket keeps the others waiting: silent ones, many at once, garbage. */
class AdminServerTest {
    @TempDir
    Path dir;

    @Test
    void aClientThatSaysNothingDoesNotHoldUpTheOthersAndIsClosed() throws Exception {
        Path socket = dir.resolve("admin.sock");
        try (AdminServer server = AdminServer.start(socket, Map.of("status", a -> Map.of("ok", true)))) {
            List<SocketChannel> silent = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                c.connect(UnixDomainSocketAddress.of(socket));
                silent.add(c);
            }
            long t0 = System.nanoTime();
            assertEquals(true, AdminClient.call(socket, "status").path("ok").asBoolean());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 1000, "answered while 20 clients say nothing, in " + ms + " ms (it was blocked until they went)");
            // The silent ones are closed once their request time is up.
            SocketChannel first = silent.get(0);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
            long t1 = System.nanoTime();
            int n = first.read(b); // blocks until the server closes it
            long closedAfter = (System.nanoTime() - t1) / 1_000_000;
            assertEquals(-1, n);
            assertTrue(closedAfter < AdminServer.REQUEST_TIMEOUT.toMillis() + 2000, "closed after " + closedAfter + " ms");
            for (SocketChannel c : silent) c.close();
        }
    }

    @Test
    void fiveHundredClientsAtOnceAreAllAnswered() throws Exception {
        Path socket = dir.resolve("admin.sock");
        try (AdminServer server = AdminServer.start(socket, Map.of("status", a -> Map.of("ok", true)));
             ExecutorService pool = Executors.newFixedThreadPool(100)) {
            List<Future<Boolean>> all = new ArrayList<>();
            for (int i = 0; i < 500; i++) all.add(pool.submit(() -> AdminClient.call(socket, "status").path("ok").asBoolean()));
            int ok = 0;
            for (Future<Boolean> f : all) if (f.get()) ok++;
            assertEquals(500, ok);
        }
    }

    @Test
    void garbageAndAnUnknownCommandGetAnAnswerNotACrash() throws Exception {
        Path socket = dir.resolve("admin.sock");
        try (AdminServer server = AdminServer.start(socket, Map.of("status", a -> Map.of("ok", true),
                "boom", a -> { throw new IllegalStateException("bad"); }))) {
            assertTrue(AdminClient.call(socket, "\u0000\u00ff garbage").path("error").asText().startsWith("unknown command"));
            try {
                AdminClient.call(socket, "x".repeat(10 << 20)); // 10 MB: cut at 1 KiB and answered, or the connection reset
            } catch (java.io.IOException reset) {
                // the client's side of a request too long to read
            }
            assertTrue(AdminClient.call(socket, "boom").path("error").asText().contains("the command failed"));
            assertEquals(true, AdminClient.call(socket, "status").path("ok").asBoolean(), "still answering");
        }
    }
}
