package dev.meerkat.agent.sampling;

import dev.meerkat.config.SensorConfig;
import dev.meerkat.coordination.locks.Hold;
import dev.meerkat.coordination.locks.LockException;
import dev.meerkat.drivers.Driver;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.Sample;
import dev.meerkat.drivers.Sensor;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.time.Ticker;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sensor on its interval.
 *
 * <ul>
 *   <li>The timer fires at a fixed rate (no drift); each firing reads on a virtual thread; a firing
 *       while the last read still runs is skipped and counted (overruns), so a slow or hung driver
 *       holds up only its own sensor.
 *   <li>A read is one transaction: the sensor's ZooKeeper lock when it has a {@code lock} (waiting
 *       at most half the interval, 100 ms to 5 s; a reading that cannot get it is skipped and
 *       counted, never taken without it), then the local lock of its bus device, then the driver's
 *       work, each bus transaction fenced by the hold ({@link Fence}).
 *   <li>A read that takes longer than its timeout (the interval, 2 s to 30 s, plus the lock wait) is
 *       interrupted and counted as an error; the driver instance is dropped and opened afresh.
 *   <li>Errors back off: after the second failure in a row the sensor waits 2, 4, 8... intervals
 *       (at most 5 minutes) between tries; after 5 in a row, or a permanent error, its state is
 *       {@code failed}. One good reading makes it {@code ok} again.
 * </ul>
 * Every call into the driver is guarded: it can throw, it cannot take the agent down.
 */
public final class SensorRunner {
    private static final Logger log = LoggerFactory.getLogger(SensorRunner.class);
    static final int FAILED_AFTER = 5;
    static final Duration MAX_BACKOFF = Duration.ofMinutes(5);

    /** A sample with its number, the time it was taken, and the fencing token of the lock it was taken under. */
    public record Taken(SensorConfig sensor, long seq, Instant ts, Sample sample, OptionalLong lockToken) {}

    /** Where ZooKeeper locks come from (the agent's {@code HardwareLocks}). */
    @FunctionalInterface
    public interface LockSource {
        Optional<Hold> acquire(String name, Duration wait) throws LockException, InterruptedException;
    }

    private final SensorConfig config;
    private final Driver driver;
    private final DriverContext context;
    private final ScheduledExecutorService timer;
    private final Ticker ticker;
    private final ExecutorService readers;
    private final Sampler.SeqSource seqs;
    private final Consumer<Taken> sink;
    private final LockSource locks;
    private final BusLocks busLocks;
    private final Fence fence;
    private final Duration lockWait, readTimeout;
    /** The reader is waiting for the sensor's lock, not talking to the hardware. */
    private volatile boolean locking;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicLong errors = new AtomicLong(), overruns = new AtomicLong(), lockSkips = new AtomicLong(),
            timeouts = new AtomicLong(), attempts = new AtomicLong();
    private final AtomicReference<Taken> last = new AtomicReference<>();
    private final Runnable onStateChange;
    private final java.util.concurrent.locks.ReentrantLock emitting = new java.util.concurrent.locks.ReentrantLock();
    private volatile Sensor sensor;
    private volatile State state = State.STARTING;
    private volatile String lastError;
    private volatile int consecutive;
    private volatile long nextTryNanos;
    private volatile Thread reading;
    private volatile long readingAttempt, timedOutAttempt;
    private volatile ScheduledFuture<?> schedule;

    /** What the status reports of a sensor (SPEC §5). */
    public enum State {
        /** No reading yet. */
        STARTING,
        /** The last read gave a reading. */
        OK,
        /** The last read failed; it is tried again. */
        FAILING,
        /** Failed repeatedly or for good; tried again after a back-off, the log says why. */
        FAILED;

        public String json() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    SensorRunner(SensorConfig config, Driver driver, DriverContext context, ScheduledExecutorService timer,
                 Ticker ticker, ExecutorService readers, Sampler.SeqSource seqs, Consumer<Taken> sink, Runnable onStateChange,
                 LockSource locks, BusLocks busLocks) {
        this.onStateChange = onStateChange;
        this.config = config;
        this.driver = driver;
        this.timer = timer;
        this.ticker = ticker;
        this.nextTryNanos = ticker.nanos();
        this.readers = readers;
        this.seqs = seqs;
        this.sink = sink;
        this.locks = locks;
        this.busLocks = busLocks;
        this.fence = config.lock().map(Fence::new).orElse(null);
        this.context = fence == null ? context : context.withBuses(fence.wrap(context.buses()));
        Duration interval = config.interval();
        this.lockWait = clamp(interval.dividedBy(2), Duration.ofMillis(100), Duration.ofSeconds(5));
        this.readTimeout = clamp(interval, Duration.ofSeconds(2), Duration.ofSeconds(30));
    }

    private static Duration clamp(Duration d, Duration min, Duration max) {
        return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
    }

    /**
     * Reads now, then every interval from {@code firstTickNanos} on (the sampler's grid, so that
     * the sensors of an agent wake it together: one wake-up, one commit, one round of publishes).
     */
    void start(long firstTickNanos) {
        long period = config.interval().toNanos();
        if (firstTickNanos > 0) timer.execute(this::fire);
        schedule = timer.scheduleAtFixedRate(this::fire, firstTickNanos, period, TimeUnit.NANOSECONDS);
        log.info("sensor started sensor={} driver={} interval={}ms{}", config.id(), config.driver(), config.interval().toMillis(),
                config.lock().map(l -> " lock=" + l).orElse(""));
    }

    private void fire() {
        if (ticker.nanos() - nextTryNanos < 0) return; // backing off
        if (!busy.compareAndSet(false, true)) {
            // The last read still runs: skip this firing rather than pile reads up on one device.
            long n = overruns.incrementAndGet();
            if (n == 1 || n % 100 == 0) log.warn("sensor={} read still running at its next interval, overruns={}", config.id(), n);
            return;
        }
        try {
            readers.execute(this::attempt);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            busy.set(false);
        }
    }

    /** One read with its watchdog, on a reader thread; clears {@link #busy} when the driver has returned. */
    private void attempt() {
        long n = attempts.incrementAndGet();
        reading = Thread.currentThread();
        readingAttempt = n;
        ScheduledFuture<?> watchdog = null;
        try {
            watchdog = timer.schedule(() -> timedOut(n), lockWait.plus(readTimeout).toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // the sampler is closing
        }
        try {
            readOnce();
        } finally {
            if (watchdog != null) watchdog.cancel(false);
            reading = null;
            busy.set(false);
        }
    }

    private void timedOut(long attempt) {
        Thread t = reading;
        if (t == null || readingAttempt != attempt) return;
        timedOutAttempt = attempt;
        if (locking) {
            // ZooKeeper did not answer (it went away during the wait): the hardware was not touched
            // and is not at fault, so this is a skipped reading, not a driver error with a back-off.
            skipped("lock " + config.lock().orElse("") + ": ZooKeeper did not answer within " + lockWait.plus(readTimeout).toMillis() + "ms");
            t.interrupt();
            return;
        }
        timeouts.incrementAndGet();
        failed(new DriverException("read timed out after " + lockWait.plus(readTimeout).toMillis() + "ms; the driver is opened afresh", false), false);
        t.interrupt();
        closeSensor(); // a driver stuck on its bus is dropped; the next read opens a new one
    }

    /**
     * Takes one reading now, between the scheduled ones (never at the same time as one), under the
     * sensor's lock, and returns it; it is published like any other. Null when the read failed (the
     * state and the log say why) or the sensor did not come free within {@code timeout}.
     */
    public Taken readNow(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!busy.compareAndSet(false, true)) {
            if (System.nanoTime() > end) return null;
            Thread.sleep(5);
        }
        Taken before = last.get();
        var f = readers.submit(this::attempt); // clears busy when done
        try {
            f.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return null;
        }
        Taken after = last.get();
        return after != before ? after : null;
    }

    private void readOnce() {
        Hold hold = null;
        BusLocks.Held bus = null;
        try {
            if (fence != null) {
                Optional<Hold> h;
                locking = true;
                try {
                    h = locks.acquire(config.lock().get(), lockWait);
                } finally {
                    locking = false;
                }
                if (h.isEmpty()) {
                    skipped("lock " + config.lock().get() + " did not come free within " + lockWait.toMillis() + "ms");
                    return;
                }
                hold = h.get();
                fence.hold(hold);
            }
            String key = BusLocks.key(config.bus());
            if (key != null) {
                bus = busLocks.lock(key, readTimeout);
                if (bus == null) throw new DriverException("bus " + key + " stayed busy for " + readTimeout.toMillis() + "ms (another sensor or process on it)", false);
            }
            if (sensor == null) {
                sensor = driver.open(config, context);
                // Pushed samples need no transaction of ours; a locked sensor takes only the samples it reads under its lock.
                if (fence == null) sensor.listen(this::pushed);
            }
            Instant ts = context.clock().instant();
            Sample sample = sensor.read();
            emit(ts, sample, hold == null ? OptionalLong.empty() : OptionalLong.of(hold.token()));
            consecutive = 0;
            nextTryNanos = ticker.nanos();
            lastError = null;
            setState(State.OK);
        } catch (LockException e) {
            skipped(e.getMessage());
        } catch (DriverException e) {
            if (timedOutAttempt == readingAttempt) {
                // Already counted as the timeout that interrupted it.
            } else if (hold != null && !hold.valid()) {
                skipped("lock " + config.lock().get() + " lost during the read: " + e.getMessage());
            } else {
                failed(e, e.permanent());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // Our own I/O errors say what they mean (a bus lock file that cannot be opened, with what to do).
            String why = e instanceof java.io.IOException && e.getMessage() != null && !(e instanceof java.nio.file.FileSystemException)
                    ? e.getMessage() : e.toString();
            if (timedOutAttempt != readingAttempt) failed(new DriverException(why, false, e), false);
            closeSensor();
        } finally {
            if (bus != null) bus.close();
            if (fence != null) fence.hold(null);
            if (hold != null) hold.close();
        }
    }

    /**
     * Numbers a sample and hands it on, one at a time (a pushed sample and a read one may come at
     * once), so that {@code seq} order is the order readings reach the journal. A lock, not
     * {@code synchronized}: the journal may block, and this runs on virtual threads.
     */
    private void emit(Instant ts, Sample sample, OptionalLong lockToken) throws java.io.IOException {
        emitting.lock();
        try {
            Taken t = new Taken(config, seqs.next(config.id()), ts, sample, lockToken);
            last.set(t);
            sink.accept(t);
        } finally {
            emitting.unlock();
        }
    }

    /** A sample the driver pushed (an edge): numbered and published like a read one. */
    private void pushed(Sample sample) {
        try {
            emit(context.clock().instant(), sample, OptionalLong.empty());
        } catch (Exception e) {
            log.warn("sensor={} pushed sample lost: {}", config.id(), e.toString());
        }
    }

    private void skipped(String why) {
        long n = lockSkips.incrementAndGet();
        if (n == 1 || n % 100 == 0) log.warn("sensor={} reading skipped, lockSkips={}: {}", config.id(), n, why);
    }

    private void failed(DriverException e, boolean permanent) {
        errors.incrementAndGet();
        int c = ++consecutive;
        lastError = e.getMessage();
        boolean failedForGood = permanent || c >= FAILED_AFTER;
        Duration backoff = permanent ? Duration.ofMinutes(1)
                : c < 2 ? Duration.ZERO : config.interval().multipliedBy(1L << Math.min(c - 1, 20));
        if (backoff.compareTo(MAX_BACKOFF) > 0) backoff = MAX_BACKOFF;
        nextTryNanos = ticker.nanos() + backoff.toNanos();
        if (c == 1 || c == FAILED_AFTER || permanent || c % 50 == 0) {
            log.warn("sensor={} driver={} {} error ({} in a row){}: {}", config.id(), config.driver(), permanent ? "permanent" : "transient", c,
                    backoff.isZero() ? "" : ", next try in " + backoff.toMillis() + "ms", e.getMessage());
        }
        if (permanent) closeSensor();
        setState(failedForGood ? State.FAILED : State.FAILING);
    }

    private void setState(State next) {
        if (state != next) {
            state = next;
            onStateChange.run();
        }
    }

    public State state() {
        return state;
    }

    public SensorConfig config() {
        return config;
    }

    public long errors() {
        return errors.get();
    }

    /** Readings skipped because the lock could not be had (or was lost during the read). */
    public long lockSkips() {
        return lockSkips.get();
    }

    public long timeouts() {
        return timeouts.get();
    }

    public long overruns() {
        return overruns.get();
    }

    /** The last error's message, or null after a good reading. */
    public String lastError() {
        return lastError;
    }

    public Taken last() {
        return last.get();
    }

    private void closeSensor() {
        Sensor s = sensor;
        sensor = null;
        if (s != null) {
            try {
                s.close();
            } catch (RuntimeException e) {
                log.warn("sensor={} close failed: {}", config.id(), e.toString());
            }
        }
    }

    void close() {
        ScheduledFuture<?> f = schedule;
        if (f != null) f.cancel(false);
        closeSensor();
    }
}
