package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.coordination.testing.ZooKeeperEnsemble;
import dev.meerkat.test.fixtures.Fixtures;
import dev.meerkat.test.fixtures.LockContender;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The ensemble and helpers of the hardware-lock tests ({@link HardwareLockTest}, {@link HardwareLockFaultsTest}). */
abstract class HardwareLockFixture {
    static final Duration SESSION = Duration.ofSeconds(2);
    static Path work;
    static ZooKeeperEnsemble zk;

    @BeforeAll
    static void ensemble() throws Exception {
        work = Fixtures.workDir("locks");
        zk = Fixtures.ensemble(3, work.resolve("zk"));
    }

    @AfterAll
    static void stop() {
        if (zk != null) zk.close();
    }

    static CuratorFramework client() throws Exception {
        CuratorFramework c = ZooKeeperClients.create(new BootstrapConfig.ZooKeeper(zk.connectString(), LockContender.ROOT, SESSION,
                Optional.empty(), Optional.empty()));
        c.start();
        assertTrue(c.blockUntilConnected(20, java.util.concurrent.TimeUnit.SECONDS));
        return c;
    }

    static boolean waitHolding(LockContender c, Duration max) throws InterruptedException {
        long end = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < end) {
            if (c.holding()) return true;
            Thread.onSpinWait();
        }
        return false;
    }

    static boolean leaderOrMinus() {
        try {
            return zk.leader() >= 0;
        } catch (Exception e) {
            return false;
        }
    }

    static long sessionId(CuratorFramework c) {
        try {
            return c.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            return 0;
        }
    }
}
