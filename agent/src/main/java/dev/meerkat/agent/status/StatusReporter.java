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
 */
public final class StatusReporter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatusReporter.class);
    private static final long RETRY_MS = 2000;

    private final StatusWriter writer;
    private final Supplier<StatusReport> source;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("meerkat-status").daemon(true).unstarted(r));
    private final AtomicBoolean pending = new AtomicBoolean();
    private Map<String, Object> written;

    /** {@code source} gives the current status, or null while there is none to report yet. */
    public StatusReporter(StatusWriter writer, Supplier<StatusReport> source) {
        this.writer = writer;
        this.source = source;
    }

    /** Something may have changed; writes soon if it did. Never blocks. */
    public void update() {
        schedule(0);
    }

    /** Writes now, on the caller's thread (after an apply, so that "applied" and the status agree). */
    public void writeNow() {
        write();
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
        Map<String, Object> stable = report.stable();
        if (stable.equals(written)) return;
        try {
            writer.write(Json.write(report.toJson()));
            written = stable;
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
