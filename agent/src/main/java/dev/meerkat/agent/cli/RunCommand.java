package dev.meerkat.agent.cli;

import dev.meerkat.agent.Agent;
import dev.meerkat.agent.logging.Logging;
import dev.meerkat.agent.systemd.ServiceNotifier;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.drivers.Drivers;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meerkat run}: the daemon. SIGTERM or SIGINT stop it cleanly, with exit code 0; a restart
 * asked for by the firmware installer stops it cleanly with exit code 75.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run the agent (the systemd service runs this).")
final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Option(names = "--config", paramLabel = "FILE", description = "Bootstrap config (default: ${DEFAULT-VALUE}).")
    Path config = BootstrapConfig.DEFAULT_PATH;

    @Override
    public Integer call() {
        return run(config);
    }

    /**
     * The arguments of a plain {@code meerkat run} ({@code run}, {@code run --config FILE} or
     * {@code run --config=FILE}) as the config file; empty for anything else, which picocli then
     * parses. A gateway's service runs one of these, and then picocli (180 classes, about 2.5 MiB of
     * the agent's memory for as long as it runs) is never loaded.
     */
    static Optional<Path> plain(String[] args) {
        if (args.length == 0 || !args[0].equals("run")) return Optional.empty();
        if (args.length == 1) return Optional.of(BootstrapConfig.DEFAULT_PATH);
        if (args.length == 2 && args[1].startsWith("--config=") && args[1].length() > "--config=".length()) {
            return Optional.of(Path.of(args[1].substring("--config=".length())));
        }
        if (args.length == 3 && args[1].equals("--config") && !args[2].isEmpty() && !args[2].startsWith("-")) {
            return Optional.of(Path.of(args[2]));
        }
        return Optional.empty();
    }

    static int run(Path config) {
        Logging.setUp("info");
        var loaded = Bootstrap.load(config, "meerkat");
        if (loaded.isEmpty()) return Main.FAILED;
        BootstrapConfig boot = loaded.get();
        Agent agent = new Agent(boot, Drivers.load(), Clock.systemUTC());
        CountDownLatch stop = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        AtomicBoolean started = new AtomicBoolean();
        // A firmware installer asks for a restart: a clean stop, then exit 75, which systemd restarts.
        AtomicBoolean restart = new AtomicBoolean();
        agent.onRestart(() -> {
            log.info("stopping to restart (exit code {})", Main.RESTART);
            restart.set(true);
            stop.countDown();
        });
        StopSignals.handle(signal -> {
            log.info("received {}, stopping", signal);
            stop.countDown();
            // The start may still be waiting for a first config from ZooKeeper; it gives up on interrupt.
            if (!started.get()) main.interrupt();
        });
        // Under systemd (Type=notify): watchdog pings while every loop is alive, from now on; READY=1
        // once the agent's parts run (sampling from its last good config, or waiting for a first one),
        // without waiting for any server; then a status line when it changes.
        Optional<ServiceNotifier> systemd = ServiceNotifier.start(System.getenv(), agent.probes(), agent::summary);
        try {
            agent.launch();
            systemd.ifPresent(ServiceNotifier::ready);
            agent.awaitFirstConfig();
            started.set(true); // from now on a signal only counts the latch down; before, it interrupts the wait
            stop.await();
        } catch (InterruptedException e) {
            // a stop signal: fall through to the clean stop
        } catch (Exception e) {
            log.error("agent failed to start: {}", Bootstrap.explain(e));
            systemd.ifPresent(ServiceNotifier::close);
            stopWithin(agent, Main.FAILED);
            return Main.FAILED;
        }
        // The signal may have interrupted us; the clean stop still needs to wait for the flush.
        Thread.interrupted();
        systemd.ifPresent(ServiceNotifier::close); // STOPPING=1
        int code = restart.get() ? Main.RESTART : Main.OK;
        stopWithin(agent, code);
        return code;
    }

    /** The whole stop's bound, well inside the unit's TimeoutStopSec=30: past it the process ends anyway. */
    static final Duration STOP_BUDGET = Duration.ofSeconds(20);

    /**
     * Closes the agent; should that take longer than {@link #STOP_BUDGET} (each step is bounded, so
     * only a defect gets here), says where it stands and ends the process with {@code code}: the
     * journal keeps every reading through a hard stop, and systemd's SIGKILL would be later and say less.
     */
    private static void stopWithin(Agent agent, int code) {
        Thread closing = Thread.currentThread();
        Thread backstop = Thread.ofPlatform().daemon().name("meerkat-stop-budget").start(() -> {
            try {
                Thread.sleep(STOP_BUDGET.toMillis());
            } catch (InterruptedException done) {
                return;
            }
            StringBuilder where = new StringBuilder();
            for (StackTraceElement e : closing.getStackTrace()) where.append("\n    at ").append(e);
            log.error("the stop did not finish within {} s; ending the process now. The stop was at:{}", STOP_BUDGET.toSeconds(), where);
            Runtime.getRuntime().halt(code);
        });
        agent.close();
        backstop.interrupt();
    }
}
