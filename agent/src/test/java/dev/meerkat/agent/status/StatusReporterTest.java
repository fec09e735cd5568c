package dev.meerkat.agent.status;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.meerkat.config.AgentSettings;
import dev.meerkat.config.ConfigError;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.config.Json;
import dev.meerkat.coordination.status.StatusWriter;
import dev.meerkat.time.ManualScheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * When the status znode is written (docs/scaling.md): problems within half a second, other changes
 * at a moment of a window that grows with the fleet. A real ZooKeeper server; the reporter's time
 * and its random moments driven by the test (every random moment is the window's last).
 */
class StatusReporterTest {
    static final String STATUS = "/meerkat/fleets/f/devices/gw/status", MEMBERS = "/meerkat/fleets/f/members";

    TestingServer server;
    CuratorFramework zk;
    final ManualScheduler time = new ManualScheduler();
    final AtomicReference<StatusReport> now = new AtomicReference<>();
    StatusReporter reporter;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer();
        zk = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        zk.start();
        zk.blockUntilConnected();
        zk.create().creatingParentsIfNeeded().forPath(MEMBERS);
        for (int i = 0; i < 1000; i++) zk.create().forPath(MEMBERS + "/gw-" + i);
        StatusWriter writer = new StatusWriter(zk, STATUS, MEMBERS);
        reporter = new StatusReporter(writer, now::get, r -> { }, writer::fleetSize, time, time, bound -> bound);
    }

    @AfterEach
    void stop() throws Exception {
        if (reporter != null) reporter.close();
        if (zk != null) zk.close();
        if (server != null) server.close();
    }

    static StatusReport report(int fleetVersion, List<ConfigError> errors, String sensorState) {
        return new StatusReport(new EffectiveConfig(AgentSettings.DEFAULTS, new TreeMap<>(), fleetVersion, -1, "sha256:" + fleetVersion),
                Instant.EPOCH, errors, Map.of("t", new StatusReport.Sensor(sensorState, Instant.EPOCH, 0, 0, null)), true,
                StatusReport.Delivery.NONE, "1.0");
    }

    /** The fleet version in the znode, and how many times it was written. */
    String written() throws Exception {
        Stat st = zk.checkExists().forPath(STATUS);
        if (st == null) return "none";
        return Json.tree(zk.getData().forPath(STATUS)).path("config").path("fleetVersion").asInt() + " after " + (st.getVersion() + 1) + " writes";
    }

    void change(StatusReport r) {
        now.set(r);
        reporter.update();
    }

    @Test
    void versionsAloneAreSpreadOverTheFleetsWindowProblemsAreNot() throws Exception {
        change(report(1, List.of(), "starting"));
        time.advance(Duration.ofMillis(499));
        assertEquals("none", written());
        time.advance(Duration.ofMillis(1));
        assertEquals("1 after 1 writes", written(), "the first status within half a second");

        // A fleet-wide change: versions and a sensor now ok, no problem. 1000 members: an 8 s window.
        change(report(2, List.of(), "ok"));
        time.advance(Duration.ofMillis(500 + 7999));
        assertEquals("1 after 1 writes", written(), "a version-only change written before its moment");
        time.advance(Duration.ofMillis(1));
        assertEquals("2 after 2 writes", written());

        // Another, and before its moment a config error: written within half a second, with the version.
        change(report(3, List.of(), "ok"));
        time.advance(Duration.ofMillis(1000));
        change(report(4, List.of(new ConfigError("/meerkat/fleets/f/config/sensors/t", "$.interval", "not a duration")), "ok"));
        time.advance(Duration.ofMillis(500));
        assertEquals("4 after 3 writes", written(), "a config error waits for no window");
        // The spread moment of version 3 comes and finds nothing new to write.
        time.advance(Duration.ofSeconds(10));
        assertEquals("4 after 3 writes", written());

        // The error cleared and a sensor failing are problems too; each written at once.
        change(report(5, List.of(), "ok"));
        time.advance(Duration.ofMillis(500));
        assertEquals("5 after 4 writes", written(), "an error cleared is written at once");
        change(report(5, List.of(), "failing"));
        time.advance(Duration.ofMillis(500));
        assertEquals("5 after 5 writes", written(), "a sensor failing is written at once");
    }

    @Test
    void theWindowGrowsWithTheFleetWithinItsBounds() throws Exception {
        assertEquals(Duration.ofSeconds(8), reporter.window(), "1000 members");
        StatusWriter writer = new StatusWriter(zk, STATUS, MEMBERS);
        int[] size = {3};
        StatusReporter small = new StatusReporter(writer, now::get, r -> { }, () -> size[0], time, time, bound -> bound);
        assertEquals(StatusReporter.SPREAD, small.window(), "a small fleet: half a second, as problems");
        size[0] = 100_000;
        assertEquals(StatusReporter.SPREAD, small.window(), "the size is read again only after a minute");
        time.advance(StatusReporter.FLEET_SIZE_AGE.plusMillis(1));
        assertEquals(StatusReporter.MAX_WINDOW, small.window(), "a huge fleet: never more than a minute");
        StatusReporter unknown = new StatusReporter(writer, now::get, r -> { }, () -> {
            throw new org.apache.zookeeper.KeeperException.ConnectionLossException();
        }, time, time, bound -> bound);
        assertEquals(StatusReporter.MAX_WINDOW, unknown.window(), "a size never read: the longest window, not a burst");
        size[0] = 3;
        time.advance(StatusReporter.FLEET_SIZE_AGE.plusMillis(1));
        StatusReporter failsLater = new StatusReporter(writer, now::get, r -> { }, () -> {
            if (size[0] < 0) throw new org.apache.zookeeper.KeeperException.ConnectionLossException();
            return 2000;
        }, time, time, bound -> bound);
        assertEquals(Duration.ofSeconds(16), failsLater.window());
        size[0] = -1;
        time.advance(StatusReporter.FLEET_SIZE_AGE.plusMillis(1));
        assertEquals(Duration.ofSeconds(16), failsLater.window(), "a failed read keeps the size last read");
    }

    @Test
    void theFleetsSizeIsReadWhenAChangeIsToBeSpreadAtMostOnceAMinute() throws Exception {
        int[] reads = {0};
        StatusWriter writer = new StatusWriter(zk, STATUS, MEMBERS);
        ManualScheduler own = new ManualScheduler();
        reporter.close();
        reporter = new StatusReporter(writer, now::get, r -> { }, () -> {
            reads[0]++;
            return writer.fleetSize();
        }, own, own, bound -> bound);
        change(report(1, List.of(), "ok"));
        own.advance(Duration.ofMillis(500));
        assertEquals("1 after 1 writes", written());
        assertEquals(0, reads[0], "the first write is not spread: no need of the size");
        change(report(2, List.of(), "ok"));
        own.advance(Duration.ofSeconds(9)); // 1000 members: an 8 s window
        assertEquals("2 after 2 writes", written());
        change(report(3, List.of(), "ok"));
        own.advance(Duration.ofSeconds(9)); // 1000 members: an 8 s window
        assertEquals(1, reads[0], "read once for two spread writes within a minute");
        own.advance(Duration.ofMinutes(1));
        change(report(4, List.of(), "ok"));
        own.advance(Duration.ofSeconds(9)); // 1000 members: an 8 s window
        assertEquals("4 after 4 writes", written());
        assertEquals(2, reads[0], "read again a minute later: a growing fleet's size is not kept for long");
    }
}
