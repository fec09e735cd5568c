package dev.meerkat.agent.admin;

import dev.meerkat.config.Json;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's admin socket (SPEC §1): a Unix domain socket, readable and writable by its owner only
 * (and root). A client sends one line, the command ({@code status}, {@code config}, {@code read S}), and
 * gets one JSON document back, then the connection closes. Answers are built from what the agent
 * holds in memory; nothing here waits for ZooKeeper or the broker.
 *
 * <p>No client can keep the others waiting: requests are read without blocking on one thread (a
 * {@link Selector}), each within {@link #REQUEST_TIMEOUT} of its connect or its connection is
 * closed, and answered by a few worker threads, each answer written within {@link #ANSWER_TIMEOUT}.
 * The listen backlog is {@link #BACKLOG}; connections beyond {@link #MAX_OPEN} at once are closed
 * at once.
 *
 * <p>The socket also keeps two agents from sharing one: a start that finds the socket answering
 * stops with a message; a socket file left by a crash (nobody answers) is replaced.
 */
public final class AdminServer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_REQUEST = 1024;
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);
    /** Long enough for {@code read S} (a sensor read waits up to 10 s), bounded all the same. */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(15);
    static final int BACKLOG = 512;
    static final int MAX_OPEN = 256;
    private static final int WORKERS = 4;

    private final Path path;
    private final Map<String, java.util.function.Function<String, Object>> commands;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final Thread acceptor;
    private final java.util.concurrent.ThreadPoolExecutor workers;
    private final java.util.concurrent.ScheduledExecutorService deadlines;
    private volatile boolean closed;

    /** A connection whose request is being read. */
    private static final class Pending {
        final ByteBuffer in = ByteBuffer.allocate(MAX_REQUEST);
        final long deadline = System.nanoTime() + REQUEST_TIMEOUT.toNanos();
    }

    private AdminServer(Path path, Map<String, java.util.function.Function<String, Object>> commands, ServerSocketChannel server,
                        Selector selector) {
        this.path = path;
        this.commands = new LinkedHashMap<>(commands);
        this.server = server;
        this.selector = selector;
        this.acceptor = Thread.ofPlatform().name("meerkat-admin").daemon(true).unstarted(this::serve);
        // Platform threads: a command may call into code that blocks inside synchronized blocks.
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        this.workers = new java.util.concurrent.ThreadPoolExecutor(WORKERS, WORKERS, 30, TimeUnit.SECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(MAX_OPEN),
                r -> Thread.ofPlatform().name("meerkat-admin-" + n.incrementAndGet()).daemon(true).unstarted(r));
        this.workers.allowCoreThreadTimeOut(true);
        this.deadlines = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("meerkat-admin-deadlines").daemon(true).unstarted(r));
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
        Selector selector;
        try {
            server.bind(UnixDomainSocketAddress.of(path), BACKLOG);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            server.configureBlocking(false);
            selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot open the admin socket " + path + ": " + e.getMessage(), e);
        }
        AdminServer s = new AdminServer(path, commands, server, selector);
        s.acceptor.start();
        log.info("admin socket {}", path);
        return s;
    }

    /** Accepts and reads requests without blocking; closes connections past their deadline. */
    private void serve() {
        while (!closed) {
            try {
                // With a connection open, every 500 ms for its deadline; with none, only when one comes.
                selector.select(selector.keys().size() > 1 ? 500 : 0);
                if (closed) break;
                for (var it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                    SelectionKey k = it.next();
                    it.remove();
                    if (!k.isValid()) continue;
                    if (k.isAcceptable()) accept();
                    else if (k.isReadable()) read(k);
                }
                long now = System.nanoTime();
                for (SelectionKey k : selector.keys()) {
                    if (k.attachment() instanceof Pending p && now - p.deadline > 0) {
                        drop(k); // a client that connects and says nothing, or too slowly
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (!closed) log.warn("admin socket: {}", e.toString());
            }
        }
    }

    private void accept() throws IOException {
        SocketChannel c;
        while ((c = server.accept()) != null) {
            if (selector.keys().size() > MAX_OPEN) {
                c.close(); // too many at once: the client sees the connection closed and may try again
                continue;
            }
            c.configureBlocking(false);
            c.register(selector, SelectionKey.OP_READ, new Pending());
        }
    }

    private void read(SelectionKey k) {
        Pending p = (Pending) k.attachment();
        SocketChannel c = (SocketChannel) k.channel();
        int n;
        try {
            n = c.read(p.in);
        } catch (IOException e) {
            drop(k);
            return;
        }
        boolean line = p.in.position() > 0 && p.in.get(p.in.position() - 1) == '\n';
        if (n >= 0 && !line && p.in.hasRemaining()) return; // more to come
        k.cancel();
        String request = new String(p.in.array(), 0, p.in.position(), StandardCharsets.UTF_8).strip();
        try {
            workers.execute(() -> answer(c, request));
        } catch (java.util.concurrent.RejectedExecutionException busy) {
            close(c);
        }
    }

    private static void drop(SelectionKey k) {
        k.cancel();
        close((SocketChannel) k.channel());
    }

    private static void close(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // gone
        }
    }

    /** On a worker: the command's answer, written within {@link #ANSWER_TIMEOUT} (else the connection is closed). */
    private void answer(SocketChannel c, String line) {
        var timeout = deadlines.schedule(() -> close(c), ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        try {
            // The channel stays non-blocking (the selector may not have let go of it yet): a full
            // socket buffer is waited out in short naps, within the deadline above.
            int space = line.indexOf(' ');
            String command = space < 0 ? line : line.substring(0, space), argument = space < 0 ? "" : line.substring(space + 1).strip();
            var handler = commands.get(command);
            Object reply;
            try {
                reply = handler != null ? handler.apply(argument)
                        : Map.of("error", "unknown command \"" + command + "\"; known: " + String.join(", ", commands.keySet()));
            } catch (RuntimeException e) {
                log.error("admin socket: the command {} failed: {}", command, e.toString(), e);
                reply = Map.of("error", "the command failed: " + e);
            }
            ByteBuffer out = ByteBuffer.wrap(Json.write(reply));
            while (out.hasRemaining()) {
                if (c.write(out) == 0) Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the client went away, or was too slow to read its answer
        } finally {
            timeout.cancel(false);
            close(c);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            selector.wakeup();
            server.close();
        } catch (IOException e) {
            // closing
        }
        try {
            acceptor.join(2000);
            for (SelectionKey k : selector.keys()) if (k.channel() instanceof SocketChannel c) close(c);
            selector.close();
            workers.shutdownNow();
            deadlines.shutdownNow();
            Files.deleteIfExists(path);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.warn("cannot remove the admin socket {}: {}", path, e.toString());
        }
    }
}
