package dev.meerkat.agent.admin;

import dev.meerkat.config.Json;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's admin socket (SPEC §1): a Unix domain socket, readable and writable by its owner only
 * (and root). A client sends one line, the command ({@code status}, {@code config}, {@code read S}), and
 * gets one JSON document back, then the connection closes. Answers are built from what the agent
 * holds in memory; nothing here waits for ZooKeeper or the broker.
 *
 * <p>The socket also keeps two agents from sharing one: a start that finds the socket answering
 * stops with a message; a socket file left by a crash (nobody answers) is replaced.
 */
public final class AdminServer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_REQUEST = 1024;

    private final Path path;
    private final Map<String, java.util.function.Function<String, Object>> commands;
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private volatile boolean closed;

    private AdminServer(Path path, Map<String, java.util.function.Function<String, Object>> commands, ServerSocketChannel server) {
        this.path = path;
        this.commands = new LinkedHashMap<>(commands);
        this.server = server;
        // A platform thread: answers are quick, and one at a time is enough for an operator's commands.
        this.acceptor = Thread.ofPlatform().name("meerkat-admin").daemon(true).unstarted(this::serve);
    }

    /**
     * Binds the socket at {@code path} and starts answering {@code commands}: a command's name,
     * then after a space its argument (empty when none), as in {@code read s1}.
     */
    public static AdminServer start(Path path, Map<String, java.util.function.Function<String, Object>> commands) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null) Files.createDirectories(dir);
        if (Files.exists(path)) {
            if (AdminClient.answers(path)) {
                throw new IOException("another agent is running: its admin socket " + path + " answers; stop it first");
            }
            Files.delete(path); // left by an agent that did not stop cleanly
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot open the admin socket " + path + ": " + e.getMessage(), e);
        }
        AdminServer s = new AdminServer(path, commands, server);
        s.acceptor.start();
        log.info("admin socket {}", path);
        return s;
    }

    private void serve() {
        while (!closed) {
            try (SocketChannel c = server.accept()) {
                answer(c);
            } catch (IOException e) {
                if (!closed) log.warn("admin socket: {}", e.toString());
            } catch (RuntimeException e) {
                log.error("admin socket: a command failed: {}", e.toString(), e);
            }
        }
    }

    private void answer(SocketChannel c) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(MAX_REQUEST);
        while (in.hasRemaining()) {
            if (c.read(in) < 0) break;
            if (in.position() > 0 && in.get(in.position() - 1) == '\n') break;
        }
        String line = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8).strip();
        int space = line.indexOf(' ');
        String command = space < 0 ? line : line.substring(0, space), argument = space < 0 ? "" : line.substring(space + 1).strip();
        var handler = commands.get(command);
        Object reply = handler != null ? handler.apply(argument)
                : Map.of("error", "unknown command \"" + command + "\"; known: " + String.join(", ", commands.keySet()));
        ByteBuffer out = ByteBuffer.wrap(Json.write(reply));
        while (out.hasRemaining()) c.write(out);
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing
        }
        try {
            acceptor.join(2000);
            Files.deleteIfExists(path);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.warn("cannot remove the admin socket {}: {}", path, e.toString());
        }
    }
}
