package dev.meerkat.agent.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The command line's side of the admin socket: one command, one JSON answer. */
public final class AdminClient {
    private AdminClient() {}

    /** How long a command waits for the agent's whole answer ({@code read S} may take 10 s). */
    public static final java.time.Duration TIMEOUT = java.time.Duration.ofSeconds(20);

    /**
     * Sends {@code command} to the agent at {@code socket} and waits at most {@link #TIMEOUT} for the
     * answer. {@link java.nio.file.AccessDeniedException} when this user may not use the socket;
     * another IOException when no agent answers there (or not in time).
     */
    public static JsonNode call(Path socket, String command) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            connect(c, socket);
            var timer = java.util.concurrent.CompletableFuture.delayedExecutor(TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            var late = new java.util.concurrent.CompletableFuture<Void>();
            late.completeAsync(() -> null, timer).thenRun(() -> {
                try {
                    c.close(); // unblocks the read below
                } catch (IOException e) {
                    // closed already
                }
            });
            try {
                ByteBuffer out = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8));
                while (out.hasRemaining()) c.write(out);
                byte[] reply = Channels.newInputStream(c).readAllBytes();
                return Json.mapper().readTree(reply);
            } catch (java.nio.channels.AsynchronousCloseException e) {
                throw new IOException("the agent did not answer within " + TIMEOUT.toSeconds() + " s", e);
            } finally {
                late.cancel(false);
            }
        }
    }

    /** Connects; a socket this user may not use says so; a full listen backlog is tried again for a second. */
    private static void connect(SocketChannel c, Path socket) throws IOException {
        long end = System.nanoTime() + 1_000_000_000L;
        while (true) {
            try {
                c.connect(UnixDomainSocketAddress.of(socket));
                return;
            } catch (IOException e) {
                String m = String.valueOf(e.getMessage());
                if (m.contains("Permission denied")) throw new java.nio.file.AccessDeniedException(socket.toString(), null, "permission denied");
                boolean busy = m.contains("Resource temporarily unavailable") || m.contains("Try again");
                if (!busy || System.nanoTime() > end) throw e;
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** True when an agent answers at {@code socket}. */
    static boolean answers(Path socket) {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
