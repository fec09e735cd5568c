package dev.meerkat.agent.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The notify protocol over a real Unix datagram socket, bound here as systemd binds its own. */
class ServiceNotifierTest {
    @TempDir
    Path dir;

    interface Sock extends Library {
        Sock C = Native.load("c", Sock.class);

        int socket(int domain, int type, int protocol) throws LastErrorException;

        int bind(int fd, byte[] addr, int len) throws LastErrorException;

        NativeLong recv(int fd, byte[] buf, NativeLong len, int flags);

        int close(int fd);
    }

    /** systemd's side: a bound datagram socket, read without blocking. */
    static final class Receiver implements AutoCloseable {
        final int fd;

        Receiver(Path path) {
            fd = Sock.C.socket(1, 2, 0);
            byte[] addr = SdNotify.sockaddr(path.toString());
            Sock.C.bind(fd, addr, addr.length);
        }

        /** Every message that arrives within {@code ms}. */
        List<String> within(long ms) throws InterruptedException {
            List<String> out = new ArrayList<>();
            long end = System.nanoTime() + ms * 1_000_000;
            byte[] buf = new byte[4096];
            while (System.nanoTime() < end) {
                long n = Sock.C.recv(fd, buf, new NativeLong(buf.length), 0x40 /* MSG_DONTWAIT */).longValue();
                if (n > 0) out.add(new String(buf, 0, (int) n, StandardCharsets.UTF_8));
                else Thread.sleep(10);
            }
            return out;
        }

        @Override
        public void close() {
            Sock.C.close(fd);
        }
    }

    @Test
    void readyStatusPingsOnlyWhileAliveAndStopping() throws Exception {
        Path socket = dir.resolve("notify");
        AtomicBoolean alive = new AtomicBoolean(true);
        String[] status = {"registered, config 1/0"};
        try (Receiver systemd = new Receiver(socket)) {
            ServiceNotifier n = ServiceNotifier.start(Map.of("NOTIFY_SOCKET", socket.toString(), "WATCHDOG_USEC", "200000"),
                    List.of(new ServiceNotifier.Probe("sampling", alive::get)), () -> status[0]).orElseThrow();
            n.ready();
            List<String> first = systemd.within(700);
            assertEquals("READY=1\nSTATUS=registered, config 1/0", first.get(0));
            assertTrue(first.stream().filter("WATCHDOG=1"::equals).count() >= 3, "pings every 100 ms: " + first);

            alive.set(false);
            systemd.within(150); // a ping may have been under way
            assertFalse(systemd.within(600).contains("WATCHDOG=1"), "no ping while a loop is wedged");

            alive.set(true);
            status[0] = "registered, config 2/0";
            List<String> again = systemd.within(500);
            assertTrue(again.contains("WATCHDOG=1"), "pings again: " + again);
            assertTrue(again.contains("STATUS=registered, config 2/0"), "the new status: " + again);

            n.close();
            assertTrue(systemd.within(300).contains("STOPPING=1"));
        }
    }

    /**
     * A status line goes out within a second of a change, not at the next ping: with a 2-minute
     * watchdog that was up to a minute late. A status that blocks would hold back the pings too,
     * so it comes from memory (here: a plain field).
     */
    @Test
    void aChangedStatusGoesOutWithinASecondWhateverTheWatchdogPeriod() throws Exception {
        Path socket = dir.resolve("notify-status");
        String[] status = {"zookeeper not connected, waiting for a first config"};
        try (Receiver systemd = new Receiver(socket)) {
            ServiceNotifier n = ServiceNotifier.start(Map.of("NOTIFY_SOCKET", socket.toString(), "WATCHDOG_USEC", "120000000"),
                    List.of(), () -> status[0]).orElseThrow();
            n.ready();
            assertEquals(List.of("READY=1\nSTATUS=zookeeper not connected, waiting for a first config"), systemd.within(300));
            status[0] = "registered, config fleet v0";
            List<String> next = systemd.within(1500);
            assertEquals(List.of("STATUS=registered, config fleet v0"), next, "one status line within a second, no ping yet");
            n.close();
        }
    }

    @Test
    void noSocketNoNotifierAndTheWatchdogIsForThisProcessOnly() {
        assertTrue(ServiceNotifier.start(Map.of(), List.of(), () -> "").isEmpty());
        assertTrue(ServiceNotifier.watchdog(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "1"), 4242).isEmpty());
        assertEquals(30, ServiceNotifier.watchdog(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "4242"), 4242).orElseThrow().toSeconds());
        assertEquals(30, ServiceNotifier.watchdog(Map.of("WATCHDOG_USEC", "30000000"), 4242).orElseThrow().toSeconds());
    }

    @Test
    void abstractSocketNamesStartWithANul() {
        byte[] a = SdNotify.sockaddr("@sd/notify");
        assertEquals(2 + 10, a.length);
        assertEquals(0, a[2]);
        assertEquals('s', a[3]);
        byte[] p = SdNotify.sockaddr("/run/systemd/notify");
        assertEquals(2 + 19 + 1, p.length);
        assertEquals(0, p[p.length - 1]);
    }
}
