package dev.meerkat.coordination.registration;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.coordination.session.Session;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;

/**
 * A closed registration leaves no watch behind in a session that goes on: it waited on another
 * session's member znode (a conflict), and the server no longer holds that watch for it. Asked of
 * the server itself, with its {@code wchc} command (watches by session).
 */
class RegistrationWatchesTest {
    private static final MemberInfo INFO = new MemberInfo("gw-x", "f", "0", "0", "h", List.of(), "t", List.of());

    @Test
    void aClosedRegistrationRemovesItsWatchFromTheServer() throws Exception {
        InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, 1, -1, -1, Map.of("4lw.commands.whitelist", "*"));
        String path = "/fleets/f/members/twin";
        try (TestingServer server = new TestingServer(spec, true);
             CuratorFramework other = client(server);
             CuratorFramework c = client(server)) {
            other.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(path);
            String mine = "0x" + Long.toHexString(c.getZookeeperClient().getZooKeeper().getSessionId());
            try (Session session = new Session(c, Duration.ofSeconds(10))) {
                Registration r = new Registration(c, path, INFO, Optional.empty());
                r.start(session);
                await("the conflict seen and watched", () -> r.conflictWith() != 0 && watches(server, mine).contains(path));
                r.close();
                await("no watch of this session left on the server", () -> !watches(server, mine).contains(path));
                assertTrue(c.getZookeeperClient().isConnected(), "the session goes on");
            }
        }
    }

    private static CuratorFramework client(TestingServer server) throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.newClient(server.getConnectString(), 10_000, 5_000, new RetryOneTime(100));
        c.start();
        assertTrue(c.blockUntilConnected(30, TimeUnit.SECONDS));
        return c;
    }

    /** The paths the server watches for {@code session} (its {@code wchc} answer, that session's part). */
    private static String watches(TestingServer server, String session) {
        try (Socket s = new Socket("127.0.0.1", server.getPort())) {
            OutputStream out = s.getOutputStream();
            out.write("wchc".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int at = all.indexOf(session);
            if (at < 0) return "";
            int next = all.indexOf("\n0x", at + 1);
            return all.substring(at, next < 0 ? all.length() : next);
        } catch (IOException e) {
            return "";
        }
    }

    private static void await(String what, java.util.function.BooleanSupplier c) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("not in 10 s: " + what);
            Thread.sleep(20);
        }
    }
}
