package dev.meerkat.agent.systemd;

import java.io.Closeable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent tells systemd ({@code Type=notify}): {@code READY=1} once its parts run (sampling
 * from a config, the last good one or a fresh one, or waiting for a first config), never waiting
 * for ZooKeeper or MQTT; a {@code STATUS=} line within a second of its one-line summary changing;
 * {@code WATCHDOG=1} at half the {@code WatchdogSec=} period but only while every loop of the agent
 * is alive ({@link #probes}: the agent's own loops, never a server), and {@code STOPPING=1} at the
 * stop. A wedged loop stops the pings, so systemd kills and restarts the agent; the loop is named in
 * the log first. An outage of a server is reported in the status line, never answered by a restart.
 */
public final class ServiceNotifier implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ServiceNotifier.class);

    /** A loop of the agent: its name, and whether it is alive now (it may take up to its own deadline to say). */
    public record Probe(String name, Supplier<Boolean> alive) {}

    private final SdNotify notify;
    private final Optional<Duration> watchdog;
    private final List<Probe> probes;
    private final Supplier<String> status;
    private final Thread thread;
    private volatile boolean ready;
    private volatile String lastStatus;
    private String lastWedged;

    private ServiceNotifier(SdNotify notify, Optional<Duration> watchdog, List<Probe> probes, Supplier<String> status) {
        this.notify = notify;
        this.watchdog = watchdog;
        this.probes = probes;
        this.status = status;
        this.thread = Thread.ofPlatform().daemon().name("meerkat-systemd").unstarted(this::loop);
    }

    /**
     * The notifier for this process, when systemd runs it with a notify socket; empty otherwise.
     * {@code WATCHDOG_USEC} (and {@code WATCHDOG_PID}, when set, must be this process) enables the pings.
     */
    public static Optional<ServiceNotifier> start(Map<String, String> env, List<Probe> probes, Supplier<String> status) {
        Optional<SdNotify> n = SdNotify.fromEnvironment(env);
        if (n.isEmpty()) return Optional.empty();
        Optional<Duration> wd = watchdog(env, ProcessHandle.current().pid());
        ServiceNotifier s = new ServiceNotifier(n.get(), wd, List.copyOf(probes), status);
        s.thread.start();
        log.info("systemd notify socket={} watchdog={}", n.get().socket(), wd.map(Duration::toString).orElse("off"));
        return Optional.of(s);
    }

    static Optional<Duration> watchdog(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null) return Optional.empty();
        String forPid = env.get("WATCHDOG_PID");
        if (forPid != null && !forPid.isBlank() && !forPid.strip().equals(Long.toString(pid))) return Optional.empty();
        try {
            long us = Long.parseLong(usec.strip());
            return us > 0 ? Optional.of(Duration.ofNanos(us * 1000)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The agent runs: READY=1 with the first status. */
    public void ready() {
        ready = true;
        String s = status.get();
        lastStatus = s;
        if (!notify.send("READY=1\nSTATUS=" + s)) log.warn("systemd did not take READY=1 on {}", notify.socket());
    }

    /** How often the status line is compared with the last one sent: it is at most this stale. */
    static final long STATUS_PERIOD_MS = 1000;

    private void loop() {
        long pingMs = watchdog.map(d -> Math.max(100, d.toMillis() / 2)).orElse(Long.MAX_VALUE);
        long stepMs = Math.min(STATUS_PERIOD_MS, pingMs);
        long stepsPerPing = watchdog.isEmpty() ? Long.MAX_VALUE : Math.max(1, pingMs / stepMs);
        try {
            for (long step = 1; !Thread.currentThread().isInterrupted(); step++) {
                Thread.sleep(stepMs);
                if (step % stepsPerPing == 0) tick();
                else statusTick();
            }
        } catch (InterruptedException stop) {
            // closed
        }
    }

    /** The status line, if it changed since the last one sent. It comes from memory: nothing here waits on a server. */
    void statusTick() {
        if (!ready) return;
        String s = status.get();
        if (!s.equals(lastStatus)) {
            lastStatus = s;
            notify.send("STATUS=" + s);
        }
    }

    /** One round: the status line if it changed, and the ping if every loop is alive. */
    void tick() {
        // Pings from the process's start: systemd's watchdog may run before READY=1, and a loop not
        // started yet answers alive.
        statusTick();
        if (watchdog.isEmpty()) return;
        String wedged = null;
        for (Probe p : probes) {
            boolean alive;
            try {
                alive = p.alive().get();
            } catch (RuntimeException e) {
                alive = false;
            }
            if (!alive) {
                wedged = p.name();
                break;
            }
        }
        if (wedged == null) {
            if (lastWedged != null) log.info("the {} loop is alive again; watchdog pings resume", lastWedged);
            lastWedged = null;
            notify.send("WATCHDOG=1");
        } else if (!wedged.equals(lastWedged)) {
            lastWedged = wedged;
            log.error("the {} loop does not answer: no watchdog ping, systemd restarts the agent if it stays so", wedged);
        }
    }

    @Override
    public void close() {
        thread.interrupt();
        notify.send("STOPPING=1");
        notify.close();
    }
}
