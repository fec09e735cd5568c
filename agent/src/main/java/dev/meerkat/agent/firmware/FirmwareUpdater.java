package dev.meerkat.agent.firmware;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Durations;
import dev.meerkat.config.Json;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.rollout.FirmwareReport;
import dev.meerkat.coordination.rollout.FirmwareReport.State;
import dev.meerkat.coordination.rollout.FirmwareTarget;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.time.OnDemandScheduler;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device's side of a rollout (SPEC §7). It watches {@code firmware/target}; for a target it has
 * not handled yet it downloads the artifact, verifies its SHA-256 and Ed25519 signature, installs
 * it, checks its own health and reports each state in {@code firmware/report}, with a time and, on
 * failure, the reason.
 *
 * <p>Installers: {@code package} unpacks the artifact (a distribution zip) as a new version beside
 * the running one ({@link Versions}), makes it current, and asks for a restart: the agent exits with
 * code 75 and systemd starts it again ({@code RestartForceExitStatus=75}). The new version checks
 * its health (registered, config applied, MQTT connected, each sensor reading) within half the
 * rollout's health timeout (at most 5 minutes) and reports {@code healthy}; if the check fails it
 * goes back to the previous version, restarts, and the previous version reports
 * {@code rolled-back}. A version that crashes before it can check itself is rolled back by the
 * launcher after 3 starts. {@code command} runs the bootstrap config's {@code firmware.command}
 * with the verified artifact: exit 0 is success (then the same health check), anything else a
 * failure with the exit status and the updater's last line of output.
 *
 * <p>All of it runs on one platform thread of its own; ZooKeeper's event thread only schedules.
 */
public final class FirmwareUpdater implements Session.Listener, Closeable {
    private static final Logger log = LoggerFactory.getLogger(FirmwareUpdater.class);
    /** How soon a target that could not be read is read again (at rest the watch says when to read: no poll). */
    static final Duration RECHECK = Duration.ofSeconds(30);

    /** What this device did with a target (handled.json), or what is pending or rolled back (versions/). */
    record Mark(String rollout, String firmware, String state, String healthTimeout) {}

    private final CuratorFramework client;
    private final FleetPaths paths;
    private final BootstrapConfig.Firmware config;
    private final Path dir;
    private final Optional<Versions> versions;
    private final String running;
    private final Clock clock;
    private final Supplier<Optional<String>> healthProblem;
    private final Runnable restart;
    private final ScheduledExecutorService worker;
    private final CuratorWatcher watcher = event -> {
        if (event.getType() != Watcher.Event.EventType.None) submit(this::checkTarget);
    };
    private final FirmwareReporter reporter;
    private final HealthCheck health = HealthCheck.real();
    private volatile boolean closed;

    /**
     * @param versionsDir the launcher's versions directory ({@code -Dmeerkat.versions}); without it
     *     the {@code package} installer refuses
     * @param running the firmware this process runs
     * @param healthProblem what keeps this agent from being healthy now, empty when it is
     * @param restart asks the agent to stop and exit with code 75
     */
    public FirmwareUpdater(CuratorFramework client, FleetPaths paths, BootstrapConfig.Firmware config, Path storageDir,
                           Optional<Path> versionsDir, String running, Clock clock, Supplier<Optional<String>> healthProblem,
                           Runnable restart) {
        this.client = client;
        this.paths = paths;
        this.config = config;
        this.dir = storageDir.resolve("firmware");
        this.versions = versionsDir.map(Versions::new);
        this.running = running;
        this.clock = clock;
        this.healthProblem = healthProblem;
        this.restart = restart;
        this.reporter = new FirmwareReporter(client, paths, clock, running, dir);
        this.worker = new OnDemandScheduler("meerkat-firmware");
    }

    /** The firmware the launcher runs: the current version's name, else the package's own ({@code fallback}). */
    public static String running(String fallback) {
        String f = System.getProperty("meerkat.firmware");
        return f == null || f.isBlank() ? fallback : f;
    }

    /** For {@code meerkat doctor}: why the fleet's public key cannot be used, empty when it can. */
    public static Optional<String> keyProblem(Path publicKey) {
        try {
            Verifier.load(publicKey);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(e.getMessage());
        }
    }

    public static Optional<Path> versionsDir() {
        String v = System.getProperty("meerkat.versions");
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(Path.of(v));
    }

    public void start(Session session) {
        // What the last start left (a roll-back to report, a version to check) comes before any target.
        submit(this::afterStart);
        session.listen(this);
        // No periodic check: the target's watch (set by each read, kept by the client across
        // reconnects), a read at each connect (a new session has no watch), and a read again after
        // one that failed. One thread does all of it, so a check never runs in the middle of an update.
    }

    /** Reads the target again in {@link #RECHECK}, once, after a read that failed. */
    private void recheck() {
        if (rechecking.compareAndSet(false, true)) {
            try {
                worker.schedule(() -> {
                    rechecking.set(false);
                    checkTarget();
                }, RECHECK.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                rechecking.set(false);
            }
        }
    }

    private final java.util.concurrent.atomic.AtomicBoolean rechecking = new java.util.concurrent.atomic.AtomicBoolean();

    @Override
    public void connected(long sessionId, boolean newSession) {
        submit(() -> {
            reporter.again();
            checkTarget();
        });
    }

    /** A version given up before this start, or one waiting for its check. */
    private void afterStart() {
        if (versions.isEmpty()) return;
        Versions v = versions.get();
        try {
            if (Files.exists(v.rolledBack())) {
                Mark m = Json.readTolerant(Files.readAllBytes(v.rolledBack()), Mark.class);
                String why = Files.exists(v.rolledBackReason()) ? Versions.read(v.rolledBackReason()) : "rolled back";
                log.warn("firmware {} was rolled back: {}", m.firmware(), why);
                reporter.resume(m.rollout(), m.firmware());
                conclude(m.rollout(), m.firmware(), State.ROLLED_BACK, why, m.healthTimeout());
                v.forgetRollBack();
            }
            if (Files.exists(v.pending())) {
                Mark m = Json.readTolerant(Files.readAllBytes(v.pending()), Mark.class);
                reporter.resume(m.rollout(), m.firmware());
                if (!m.firmware().equals(running)) {
                    // The launcher did not start the pending version (its link was switched back): never call that healthy.
                    String why = "the pending version " + m.firmware() + " is not the one running (" + running + ")";
                    log.warn("firmware {}: {}", m.firmware(), why);
                    v.confirm();
                    conclude(m.rollout(), m.firmware(), State.ROLLED_BACK, why, m.healthTimeout());
                    return;
                }
                if (checkHealth(m, "the new version")) {
                    v.confirm();
                    conclude(m.rollout(), m.firmware(), State.HEALTHY, null, m.healthTimeout());
                    log.info("firmware {} is healthy", m.firmware());
                } else if (!closed) {
                    restart.run(); // rolled back: restart into the previous version, which reports it
                }
            }
        } catch (IOException e) {
            log.error("cannot read the firmware state in {}: {}", v.dir, e.toString());
        }
    }

    /** Waits for this agent to be healthy; on failure rolls back (package) and returns false. */
    private boolean checkHealth(Mark m, String what) throws IOException {
        Duration limit = HealthCheck.limit(m.healthTimeout());
        Optional<String> problem;
        try {
            problem = health.await(healthProblem, limit, () -> closed);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        if (problem.isEmpty()) return true;
        if (closed || Thread.currentThread().isInterrupted()) return false; // stopping: the next start checks again
        String why = "health check failed after " + Durations.format(limit) + ": " + problem.get();
        log.error("{} {}: {}", what, m.firmware(), why);
        if (versions.isPresent() && Files.exists(versions.get().pending())) {
            versions.get().rollBack(why);
        } else {
            conclude(m.rollout(), m.firmware(), State.FAILED, why, m.healthTimeout());
        }
        return false;
    }

    private void checkTarget() {
        if (closed) return;
        FirmwareTarget t;
        try {
            byte[] data = client.getData().usingWatcher(watcher).forPath(paths.firmwareTarget(paths.device()));
            if (data == null || data.length == 0) return;
            t = FirmwareTarget.read(data);
        } catch (KeeperException.NoNodeException e) {
            try {
                client.checkExists().usingWatcher(watcher).forPath(paths.firmwareTarget(paths.device()));
            } catch (Exception again) {
                if (again instanceof InterruptedException) Thread.currentThread().interrupt();
                else recheck(); // no watch set: look again
            }
            return;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                return;
            }
            log.debug("cannot read the firmware target: {}", e.toString());
            recheck();
            return;
        }
        if (t.rollout() == null || t.firmware() == null) return;
        Optional<Mark> done = reporter.handled();
        if (done.isPresent() && t.names(done.get().rollout(), done.get().firmware())) return;
        if (versions.isPresent() && Files.exists(versions.get().pending())) return; // checking itself first
        apply(t);
    }

    private void apply(FirmwareTarget t) {
        String r = t.rollout(), fw = t.firmware();
        reporter.resume(r, fw);
        if (fw.equals(running)) {
            conclude(r, fw, State.HEALTHY, null, t.healthTimeout());
            return;
        }
        log.info("firmware target {} (rollout {}, installer {})", fw, r, t.installer());
        reporter.report(r, fw, State.PENDING, null, null, null);
        Path artifact = dir.resolve("downloads").resolve(r + "-" + fw + ".artifact");
        try {
            reporter.report(r, fw, State.DOWNLOADING, null, 0L, null);
            Download.fetch(t.artifact().url(), artifact, (bytes, total) -> reporter.report(r, fw, State.DOWNLOADING, null, bytes, total < 0 ? null : total));
        } catch (IOException e) {
            fail(t, "download failed: " + e.getMessage());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        reporter.report(r, fw, State.VERIFYING, null, null, null);
        try {
            if (config.publicKey().isEmpty()) {
                fail(t, "no firmware.publicKey in the bootstrap config: nothing can be verified, so nothing is installed");
                return;
            }
            String problem = Verifier.load(config.publicKey().get()).problem(artifact, t.artifact().sha256(), t.artifact().signature());
            if (problem != null) {
                Files.deleteIfExists(artifact); // a corrected artifact is fetched afresh
                fail(t, problem);
                return;
            }
        } catch (IOException e) {
            fail(t, "cannot verify: " + e.getMessage());
            return;
        }
        reporter.report(r, fw, State.INSTALLING, null, null, null);
        try {
            if ("package".equals(t.installer())) {
                String problem = Installers.installPackage(versions, t, artifact);
                if (problem != null) {
                    fail(t, problem);
                    return;
                }
                reporter.report(r, fw, State.RESTARTING, null, null, null);
                log.info("firmware {} installed beside {}; restarting into it", fw, running);
                restart.run();
            } else if ("command".equals(t.installer())) {
                String problem = Installers.runCommand(config.command(), dir.resolve("installer.log"), t, artifact);
                if (problem != null) {
                    fail(t, problem);
                    return;
                }
                Mark m = new Mark(r, fw, State.INSTALLING.json(), t.healthTimeout());
                if (checkHealth(m, "after the installer")) conclude(r, fw, State.HEALTHY, null, t.healthTimeout());
            } else {
                fail(t, "unknown installer \"" + t.installer() + "\"");
            }
        } catch (IOException e) {
            fail(t, "install failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                Files.deleteIfExists(artifact);
            } catch (IOException ignored) {
                // a leftover download; the next one replaces it
            }
        }
    }

    private void fail(FirmwareTarget t, String reason) {
        log.error("firmware {} (rollout {}) failed: {}", t.firmware(), t.rollout(), reason);
        conclude(t.rollout(), t.firmware(), State.FAILED, reason, t.healthTimeout());
    }

    /** A target's outcome: reported, and recorded on disk so that it is not handled again. */
    private void conclude(String rollout, String firmware, State state, String reason, String healthTimeout) {
        reporter.report(rollout, firmware, state, reason, null, null);
        reporter.handled(new Mark(rollout, firmware, state.json(), healthTimeout));
    }

    /** For {@code meerkat status}: the firmware this agent runs and its last report. */
    public Map<String, Object> status() {
        FirmwareReport r = reporter.last();
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("running", running);
        m.put("rollout", r == null ? null : r.rollout());
        m.put("target", r == null ? null : r.firmware());
        m.put("state", r == null ? null : r.state());
        m.put("reason", r == null ? null : r.reason());
        return m;
    }

    private void submit(Runnable r) {
        if (closed) return;
        try {
            worker.execute(r);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    @Override
    public void close() {
        closed = true;
        worker.shutdownNow();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dev.meerkat.coordination.Watches.removeAll(client, paths.firmwareTarget(paths.device()));
    }
}
