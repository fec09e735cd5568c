package dev.meerkat.agent.status;

import dev.meerkat.config.Json;
import dev.meerkat.coordination.status.StatusWriter;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the status znode when its {@link StatusReport#stable() stable part} changes, on a thread of
 * its own (a ZooKeeper write may wait out a disconnection). A failed write is tried again, every
 * two seconds, until it goes through or a newer status replaces it.
 *
 * <p>After a config apply the write waits a random moment within {@link #SPREAD}: a fleet change
 * reaches every gateway at once, and a thousand status writes in the same millisecond would queue
 * on the ensemble ahead of everything else (the other gateways' config reads among them).
 */
public final class StatusReporter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatusReporter.class);
    private static final long RETRY_MS = 2000;
    /** The window over which status writes after an apply are spread. */
    public static final java.time.Duration SPREAD = java.time.Duration.ofMillis(500);

    private final StatusWriter writer;
    private final Supplier<StatusReport> source;
    private final java.util.function.Consumer<StatusReport> onWritten;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("meerkat-status").daemon(true).unstarted(r));
    private final AtomicBoolean pending = new AtomicBoolean();
    private Map<String, Object> written;

    /** {@code source} gives the current status, or null while there is none to report yet. */
    public StatusReporter(StatusWriter writer, Supplier<StatusReport> source) {
        this(writer, source, written -> { });
    }

    /** {@code onWritten} gets each report whose write went through (the agent publishes it on MQTT too; benchmarks time it). */
    public StatusReporter(StatusWriter writer, Supplier<StatusReport> source, java.util.function.Consumer<StatusReport> onWritten) {
        this.writer = writer;
        this.source = source;
        this.onWritten = onWritten;
    }

    /** Something may have changed (a config applied, a sensor's state, MQTT): written within {@link #SPREAD} if it did. Never blocks. */
    public void update() {
        schedule(java.util.concurrent.ThreadLocalRandom.current().nextLong(SPREAD.toMillis() + 1));
    }

    private void schedule(long delayMs) {
        if (pending.compareAndSet(false, true)) {
            try {
                thread.schedule(() -> {
                    pending.set(false);
                    write();
                }, delayMs, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                pending.set(false);
            }
        }
    }

    private synchronized void write() {
        StatusReport report = source.get();
        if (report == null) return;
        // Not a change worth a write by itself: reading times and buffer depth ride along.
        Map<String, Object> stable = report.stable();
        if (stable.equals(written)) return;
        try {
            writer.write(Json.write(report.toJson()));
            written = stable;
            onWritten.accept(report);
            log.debug("status written path={}", writer.path());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("status not written, retrying in {}ms: {}", RETRY_MS, e.toString());
            schedule(RETRY_MS);
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
