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

    /** Sends {@code command} to the agent at {@code socket}; IOException when no agent answers there. */
    public static JsonNode call(Path socket, String command) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer out = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) c.write(out);
            byte[] reply = Channels.newInputStream(c).readAllBytes();
            return Json.mapper().readTree(reply);
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
