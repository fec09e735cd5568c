package dev.meerkat.agent.firmware;

import dev.meerkat.config.Json;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.rollout.FirmwareReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The firmware updater's records: the device's firmware report in ZooKeeper (each state of a
 * target with its history; one that could not be written goes again on reconnect) and the mark on
 * disk of the last target concluded ({@code handled.json}). On the updater's thread.
 */
final class FirmwareReporter {
    private static final Logger log = LoggerFactory.getLogger(FirmwareUpdater.class);

    private final CuratorFramework client;
    private final FleetPaths paths;
    private final Clock clock;
    private final String running;
    private final Path dir;
    private volatile FirmwareReport last;
    private volatile boolean unsent;

    FirmwareReporter(CuratorFramework client, FleetPaths paths, Clock clock, String running, Path dir) {
        this.client = client;
        this.paths = paths;
        this.clock = clock;
        this.running = running;
        this.dir = dir;
    }

    /** The last report, for the status; null before the first. */
    FirmwareReport last() {
        return last;
    }

    /** Writes the last report again when it could not be written. */
    void again() {
        FirmwareReport r = last;
        if (unsent && r != null) write(r);
    }

    /** Goes on with the history of the report in ZooKeeper when it is of this rollout and firmware. */
    void resume(String rollout, String firmware) {
        if (last != null && rollout.equals(last.rollout()) && firmware.equals(last.firmware())) return;
        last = null;
        try {
            byte[] data = client.getData().forPath(paths.firmwareReport(paths.device()));
            if (data != null && data.length > 0) {
                FirmwareReport r = FirmwareReport.read(data);
                if (rollout.equals(r.rollout()) && firmware.equals(r.firmware())) last = r;
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            // no report yet, or unreadable: a new history
        }
    }

    /** A new state of a target, written to the device's firmware report (with its history). */
    void report(String rollout, String firmware, FirmwareReport.State state, String reason, Long bytes, Long total) {
        List<FirmwareReport.Step> history = new ArrayList<>();
        FirmwareReport before = last;
        if (before != null && rollout.equals(before.rollout()) && firmware.equals(before.firmware()) && before.history() != null) {
            history.addAll(before.history());
        }
        String at = clock.instant().toString();
        if (history.isEmpty() || !history.get(history.size() - 1).state().equals(state.json())) {
            history.add(new FirmwareReport.Step(state.json(), at, reason));
        }
        FirmwareReport r = new FirmwareReport(rollout, firmware, state.json(), at, reason, bytes, total,
                running, List.copyOf(history));
        last = r;
        write(r);
    }

    private void write(FirmwareReport r) {
        String path = paths.firmwareReport(paths.device());
        try {
            try {
                client.setData().forPath(path, Json.write(r));
            } catch (KeeperException.NoNodeException e) {
                client.create().creatingParentsIfNeeded().forPath(path, Json.write(r));
            }
            unsent = false;
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            unsent = true;
            log.warn("cannot write the firmware report ({}), again on reconnect: {}", r.state(), e.toString());
        }
    }

    /** The target this device last concluded (handled.json). */
    Optional<FirmwareUpdater.Mark> handled() {
        try {
            Path f = dir.resolve("handled.json");
            return Files.exists(f) ? Optional.of(Json.readTolerant(Files.readAllBytes(f), FirmwareUpdater.Mark.class)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Records a concluded target, so that it is not handled again. */
    void handled(FirmwareUpdater.Mark m) {
        try {
            Files.createDirectories(dir);
            Versions.write(dir.resolve("handled.json"), Json.write(m));
        } catch (IOException e) {
            log.error("cannot record the firmware outcome in {}: {}", dir, e.toString());
        }
    }
}
