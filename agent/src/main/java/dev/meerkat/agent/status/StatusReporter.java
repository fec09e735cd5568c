package dev.meerkat.agent.status;

import dev.meerkat.config.Json;
import dev.meerkat.coordination.status.StatusWriter;
import dev.meerkat.time.OnDemandScheduler;
import dev.meerkat.time.Ticker;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongUnaryOperator;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the status znode when its {@link StatusReport#stable() stable part} changes, on a thread of
 * its own (a ZooKeeper write may wait out a disconnection). A failed write is tried again, every
 * two seconds, until it goes through or a newer status replaces it.
 *
 * <p>When it is written (docs/scaling.md, "Status writes"): a change of the
 * {@link StatusReport#problems() problems} (a config error, a sensor failing, a new kind of drop, a
 * journal error, or one of them cleared) within {@link #SPREAD}, at a random moment of it. Any other
 * change (the versions applied, sensors added or ok, MQTT connected, drop counts growing) moves on
 * every gateway of a fleet at once, so it is written at a random moment of a window that grows with
 * the fleet: {@link #PER_GATEWAY} per registered member, from {@link #SPREAD} to {@link #MAX_WINDOW}
 * (the longest while the member count could not be read).
 * A fleet-wide change then costs the ensemble about {@code 1 / PER_GATEWAY} status writes a second
 * whatever the fleet's size, instead of the whole fleet's in half a second.
 */
public final class StatusReporter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatusReporter.class);
    private static final long RETRY_MS = 2000;
    /** The window over which status writes after a change the operator must see are spread. */
    public static final Duration SPREAD = Duration.ofMillis(500);
    /**
     * The window of other changes, per registered member: 125 writes a second for the fleet on
     * average, up to 7,500 members (a 60 s window); docs/scaling.md says why 8 ms and not less.
     */
    public static final Duration PER_GATEWAY = Duration.ofMillis(8);
    /** The longest any change waits to be written. */
    public static final Duration MAX_WINDOW = Duration.ofSeconds(60);
    /**
     * How long a member count read is used: short, since a fleet being rolled out grows by
     * thousands in minutes, and a count read when it was small would not spread a later change.
     */
    static final Duration FLEET_SIZE_AGE = Duration.ofMinutes(1);

    /** The fleet's registered members now (a small read from ZooKeeper). */
    @FunctionalInterface
    public interface FleetSize {
        int get() throws Exception;
    }

    private final StatusWriter writer;
    private final Supplier<StatusReport> source;
    private final java.util.function.Consumer<StatusReport> onWritten;
    private final FleetSize fleetSize;
    private final ScheduledExecutorService thread;
    private final Ticker ticker;
    private final LongUnaryOperator random;
    private final AtomicBoolean pending = new AtomicBoolean();
    private Map<String, Object> written, writtenProblems;
    /** When a spread write is due ({@link Ticker} time); meaningful while {@link #spreading}. */
    private long spreadDue;
    private boolean spreading;
    private int members = -1;
    private long membersReadAt;

    /** {@code source} gives the current status, or null while there is none to report yet. */
    public StatusReporter(StatusWriter writer, Supplier<StatusReport> source) {
        this(writer, source, written -> { });
    }

    /** {@code onWritten} gets each report whose write went through (the agent publishes it on MQTT too; benchmarks time it). */
    public StatusReporter(StatusWriter writer, Supplier<StatusReport> source, java.util.function.Consumer<StatusReport> onWritten) {
        this(writer, source, onWritten, writer::fleetSize, new OnDemandScheduler("meerkat-status"), Ticker.SYSTEM,
                bound -> ThreadLocalRandom.current().nextLong(bound + 1));
    }

    /**
     * With the fleet's size, the status thread, its time and the random moments ({@code random}
     * gives a number from 0 to its argument) as parameters.
     */
    public StatusReporter(StatusWriter writer, Supplier<StatusReport> source, java.util.function.Consumer<StatusReport> onWritten,
                          FleetSize fleetSize, ScheduledExecutorService thread, Ticker ticker, LongUnaryOperator random) {
        this.writer = writer;
        this.source = source;
        this.onWritten = onWritten;
        this.fleetSize = fleetSize;
        this.thread = thread;
        this.ticker = ticker;
        this.random = random;
    }

    /** Something may have changed (a config applied, a sensor's state, MQTT): looked at within {@link #SPREAD}. Never blocks. */
    public void update() {
        schedule(random.applyAsLong(SPREAD.toMillis()));
    }

    /** A look at the status after {@code delayMs}, unless one is already {@link #pending}. */
    private void schedule(long delayMs) {
        if (!pending.compareAndSet(false, true)) return;
        try {
            thread.schedule(() -> {
                pending.set(false);
                write();
            }, delayMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            pending.set(false);
        }
    }

    /** A look at the status at a spread write's moment (one at a time: {@link #spreading}). */
    private void scheduleSpread(long delayMs) {
        try {
            thread.schedule(this::write, delayMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // closed
        }
    }

    private synchronized void write() {
        StatusReport report = source.get();
        if (report == null) return;
        // Not a change worth a write by itself: reading times and buffer depth ride along.
        Map<String, Object> stable = report.stable();
        if (stable.equals(written)) {
            spreading = false;
            return;
        }
        Map<String, Object> problems = report.problems();
        if (written != null && problems.equals(writtenProblems)) {
            long now = ticker.nanos();
            if (!spreading) {
                long delayMs = random.applyAsLong(window().toMillis());
                spreading = true;
                spreadDue = now + TimeUnit.MILLISECONDS.toNanos(delayMs);
                scheduleSpread(delayMs);
                return;
            }
            if (now - spreadDue < 0) return; // its moment comes
        }
        try {
            writer.write(Json.write(report.toJson()));
            written = stable;
            writtenProblems = problems;
            spreading = false;
            onWritten.accept(report);
            log.debug("status written path={}", writer.path());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("status not written, retrying in {}ms: {}", RETRY_MS, e.toString());
            schedule(RETRY_MS);
        }
    }

    /**
     * The window of changes that are not problems, from the fleet's size. While the size was never
     * read (ZooKeeper did not answer), the longest window: spreading too much costs an operator
     * some seconds, too little costs the ensemble a burst.
     */
    Duration window() {
        fleetSize();
        if (members < 0) return MAX_WINDOW;
        Duration w = PER_GATEWAY.multipliedBy(members);
        return w.compareTo(SPREAD) < 0 ? SPREAD : w.compareTo(MAX_WINDOW) > 0 ? MAX_WINDOW : w;
    }

    /** Reads the fleet's size when it is older than {@link #FLEET_SIZE_AGE} (or was never read); the last one stays on failure. */
    private void fleetSize() {
        long now = ticker.nanos();
        if (members >= 0 && now - membersReadAt <= FLEET_SIZE_AGE.toNanos()) return;
        try {
            members = fleetSize.get();
            membersReadAt = now;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.debug("fleet size not read: {}", e.toString());
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
