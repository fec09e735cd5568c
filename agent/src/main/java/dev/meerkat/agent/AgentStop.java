package dev.meerkat.agent;

import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's clean stop, in its order: leadership given up first (the next agent leads at once),
 * then the config watch, firmware and sensors, the buffer flushed (bounded), the locks released,
 * the member znode deleted, offline published, the connections and the journal closed. Every step
 * that talks to ZooKeeper is bounded by {@link #ZK_STEP}: a server that hangs during the stop (the
 * ensemble or the network goes first at a poweroff) costs a few seconds, never systemd's stop
 * timeout; what is left undone, the session's expiry does.
 */
final class AgentStop {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(3);

    private AgentStop() {}

    /** Stops every part {@code a} started, in the order above. Called once ({@link Agent#close()}). */
    static void stop(Agent a) {
        // Stop coordinating, then leave the election: its znode goes now, and the next agent leads at
        // once. First, so that the fleet is not left without a leader while the rest stops (the
        // config watch and the firmware updater each wait up to 5 s for work in progress).
        if (a.rollouts != null) a.rollouts.close();
        if (a.rolloutSteps != null) a.rolloutSteps.shutdownNow();
        if (a.election != null) bounded("leaving the election", () -> {
            if (a.candidacy != null) a.candidacy.close(); // its slot freed: another agent may stand
            try {
                a.election.close();
            } catch (IOException e) {
                log.warn("leaving the election: {}", e.toString());
            }
        });
        if (a.watch != null) a.watch.close();
        if (a.firmware != null) a.firmware.close();
        if (a.sampler != null) a.sampler.close();
        if (a.outbox != null) {
            try {
                if (!a.outbox.flush(FLUSH_TIMEOUT)) {
                    log.warn("stopping with {} readings unacknowledged after {}ms; they stay in the journal and go after the next start",
                            a.outbox.depth(), FLUSH_TIMEOUT.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (a.locks != null) bounded("releasing the hardware locks", a.locks::close);
        a.buses.close();
        if (a.registration != null) a.registration.close(ZK_STEP);
        if (a.homeAssistant != null) a.homeAssistant.close(); // before the connection goes: no publish on a closed client
        if (a.outbox != null) a.outbox.close();
        if (a.status != null) a.status.close();
        if (a.session != null) a.session.close();
        if (a.tlsDiagnosis != null) a.tlsDiagnosis.close();
        if (a.zk != null) bounded("closing the ZooKeeper session", a.zk::close);
        if (a.journal != null) a.journal.close();
        if (a.metrics != null) bounded("closing the metrics endpoint", a.metrics::close);
        if (a.admin != null) a.admin.close();
        log.info("agent stopped device={}", a.boot.device().id());
    }

    /** How long one step of the stop may wait for ZooKeeper. */
    static final Duration ZK_STEP = Duration.ofSeconds(2);

    /**
     * Runs one step of the stop on a thread of its own and waits for it at most {@link #ZK_STEP};
     * a step still waiting for a server then is left to finish or die with the process.
     */
    private static void bounded(String what, Runnable step) {
        Thread t = Thread.ofPlatform().daemon().name("meerkat-stop").start(() -> {
            try {
                step.run();
            } catch (RuntimeException e) {
                log.warn("stopping: {} failed: {}", what, e.toString());
            }
        });
        try {
            t.join(ZK_STEP.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) log.warn("stopping: {} did not finish within {} s (ZooKeeper does not answer); going on", what, ZK_STEP.toSeconds());
    }
}
