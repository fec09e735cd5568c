package dev.meerkat.agent.systemd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/**
 * systemd's notify protocol: one datagram per message ({@code READY=1}, {@code STATUS=...},
 * {@code WATCHDOG=1}, {@code STOPPING=1}) to the Unix datagram socket named by {@code
 * $NOTIFY_SOCKET}. The JDK has Unix stream sockets but no Unix datagrams, so the three libc calls go
 * through JNA (already shipped, for Pi4J); no libsystemd.
 */
public final class SdNotify implements AutoCloseable {
    private static final int AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000, MSG_NOSIGNAL = 0x4000;

    interface LibC extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        NativeLong sendto(int fd, byte[] buf, NativeLong len, int flags, byte[] addr, int addrlen) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private static volatile LibC libc;

    private final byte[] address;
    private final String socket;
    private int fd = -1;

    private SdNotify(String socket) {
        this.socket = socket;
        this.address = sockaddr(socket);
    }

    /** The notifier systemd asked for, if {@code $NOTIFY_SOCKET} is set (a path, or {@code @name} for the abstract namespace). */
    public static Optional<SdNotify> fromEnvironment(Map<String, String> env) {
        String s = env.get("NOTIFY_SOCKET");
        return s == null || s.isBlank() ? Optional.empty() : Optional.of(new SdNotify(s));
    }

    /** Sends one message (lines {@code KEY=value}); false, when it cannot (the caller logs, systemd will act on the silence). */
    public synchronized boolean send(String message) {
        try {
            LibC c = libc();
            if (fd < 0) fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            byte[] data = message.getBytes(StandardCharsets.UTF_8);
            c.sendto(fd, data, new NativeLong(data.length), MSG_NOSIGNAL, address, address.length);
            return true;
        } catch (LastErrorException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    public String socket() {
        return socket;
    }

    @Override
    public synchronized void close() {
        if (fd >= 0) {
            try {
                libc().close(fd);
            } catch (LastErrorException ignored) {
                // closing anyway
            }
            fd = -1;
        }
    }

    private static LibC libc() {
        LibC c = libc;
        if (c == null) libc = c = Native.load("c", LibC.class);
        return c;
    }

    /** {@code struct sockaddr_un}: the family, then the path (NUL-terminated), or for {@code @name} a NUL and the name. */
    static byte[] sockaddr(String socket) {
        byte[] name = socket.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = socket.startsWith("@");
        if (name.length > 107) throw new IllegalArgumentException("NOTIFY_SOCKET is longer than a Unix socket path may be: " + socket);
        int len = 2 + name.length + (abstractName ? 0 : 1);
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.nativeOrder());
        b.putShort((short) AF_UNIX);
        if (abstractName) {
            b.put((byte) 0).put(name, 1, name.length - 1);
        } else {
            b.put(name).put((byte) 0);
        }
        return b.array();
    }
}
