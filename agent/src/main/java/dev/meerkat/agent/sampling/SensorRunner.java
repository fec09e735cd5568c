package dev.meerkat.agent.sampling;

import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.Driver;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.DriverException;
import dev.meerkat.drivers.Sample;
import dev.meerkat.drivers.Sensor;
import java.time.Instant;
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
 * One sensor on its interval. The timer fires at a fixed rate (no drift); each firing reads on a
 * virtual thread; a firing while the last read still runs is skipped and counted (overruns), so a
 * hung driver holds up only its own sensor. Every call into the driver is guarded: it can throw,
 * it cannot take the agent down. (Per-read timeouts, backoff and marking a sensor failed come with
 * the hardware drivers.)
 */
public final class SensorRunner {
    private static final Logger log = LoggerFactory.getLogger(SensorRunner.class);

    /** A sample with its number and the time it was taken. */
    public record Taken(SensorConfig sensor, long seq, Instant ts, Sample sample) {}

    private final SensorConfig config;
    private final Driver driver;
    private final DriverContext context;
    private final ScheduledExecutorService timer;
    private final ExecutorService readers;
    private final Sampler.SeqSource seqs;
    private final Consumer<Taken> sink;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicLong errors = new AtomicLong(), overruns = new AtomicLong();
    private final AtomicReference<Taken> last = new AtomicReference<>();
    private volatile Sensor sensor;
    private volatile State state = State.STARTING;
    private final Runnable onStateChange;
    private volatile ScheduledFuture<?> schedule;

    /** What the status reports of a sensor (SPEC §5): no reading yet, reading, or its last read failed. */
    public enum State {
        STARTING, OK, FAILING;

        public String json() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    SensorRunner(SensorConfig config, Driver driver, DriverContext context, ScheduledExecutorService timer,
                 ExecutorService readers, Sampler.SeqSource seqs, Consumer<Taken> sink, Runnable onStateChange) {
        this.onStateChange = onStateChange;
        this.config = config;
        this.driver = driver;
        this.context = context;
        this.timer = timer;
        this.readers = readers;
        this.seqs = seqs;
        this.sink = sink;
    }

    void start() {
        long period = config.interval().toMillis();
        schedule = timer.scheduleAtFixedRate(this::fire, 0, period, TimeUnit.MILLISECONDS);
        log.info("sensor started sensor={} driver={} interval={}ms", config.id(), config.driver(), period);
    }

    private void fire() {
        if (!busy.compareAndSet(false, true)) {
            // The last read still runs: skip this firing rather than pile reads up on one device.
            long n = overruns.incrementAndGet();
            if (n == 1 || n % 100 == 0) log.warn("sensor={} read still running at its next interval, overruns={}", config.id(), n);
            return;
        }
        try {
            readers.execute(() -> {
                try {
                    readOnce();
                } finally {
                    busy.set(false);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            busy.set(false);
        }
    }

    /**
     * Takes one reading now, between the scheduled ones (never at the same time as one), and
     * returns it; it is published like any other. Null when the read failed (the state and the
     * log say why) or the sensor did not come free within {@code timeout}.
     */
    public Taken readNow(java.time.Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!busy.compareAndSet(false, true)) {
            if (System.nanoTime() > end) return null;
            Thread.sleep(5);
        }
        try {
            Taken before = last.get();
            var f = readers.submit(this::readOnce);
            try {
                f.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                return null;
            }
            Taken after = last.get();
            return after != before ? after : null;
        } finally {
            busy.set(false);
        }
    }

    private void readOnce() {
        try {
            if (sensor == null) sensor = driver.open(config, context);
            Instant ts = context.clock().instant();
            Sample sample = sensor.read();
            Taken t = new Taken(config, seqs.next(config.id()), ts, sample);
            last.set(t);
            sink.accept(t);
            setState(State.OK);
        } catch (DriverException e) {
            errors.incrementAndGet();
            log.warn("sensor={} driver={} {} error: {}", config.id(), config.driver(),
                    e.permanent() ? "permanent" : "transient", e.getMessage());
            if (e.permanent()) closeSensor();
            setState(State.FAILING);
        } catch (Exception e) {
            errors.incrementAndGet();
            log.warn("sensor={} driver={} failed: {}", config.id(), config.driver(), e.toString());
            closeSensor();
            setState(State.FAILING);
        }
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
