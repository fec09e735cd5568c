package dev.meerkat.agent.sampling;

import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.Drivers;
import dev.meerkat.time.Ticker;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the sensors of the effective config: one scheduler thread keeps time for all of them, and
 * each read runs on a virtual thread with a timeout, so a slow bus delays only its own sensor.
 */
public final class Sampler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Sampler.class);

    private final Drivers drivers;
    private final DriverContext context;
    private final Consumer<SensorRunner.Taken> sink;
    private final SeqSource seqs;
    private final ScheduledExecutorService timer;
    private final ExecutorService readers;
    private final Ticker ticker;
    private final Map<String, SensorRunner> running = new TreeMap<>();
    private final Runnable onStateChange;
    private final SensorRunner.LockSource locks;
    private final BusLocks busLocks;

    /** Where {@code seq} numbers come from (the persistent store in the agent). */
    @FunctionalInterface
    public interface SeqSource {
        long next(String sensor) throws java.io.IOException;
    }

    /**
     * {@code context} carries the buses drivers reach their hardware through; {@code locks} the
     * ZooKeeper locks of sensors with a {@code lock}; {@code busLocks} the local lock of each bus device.
     */
    public Sampler(Drivers drivers, DriverContext context, SeqSource seqs, Consumer<SensorRunner.Taken> sink,
                   Runnable onStateChange, SensorRunner.LockSource locks, BusLocks busLocks) {
        this(drivers, context, seqs, sink, onStateChange, locks, busLocks, timer(), Ticker.SYSTEM,
                Executors.newVirtualThreadPerTaskExecutor());
    }

    /**
     * The same on a given timer, time source and reader threads (a test's {@link Ticker} and
     * scheduler drive the intervals, back-offs and read timeouts). The sampler shuts both down on close.
     */
    public Sampler(Drivers drivers, DriverContext context, SeqSource seqs, Consumer<SensorRunner.Taken> sink,
                   Runnable onStateChange, SensorRunner.LockSource locks, BusLocks busLocks,
                   ScheduledExecutorService timer, Ticker ticker, ExecutorService readers) {
        this.locks = locks;
        this.busLocks = busLocks;
        this.onStateChange = onStateChange;
        this.drivers = drivers;
        this.context = context;
        this.seqs = seqs;
        this.sink = sink;
        this.timer = timer;
        this.ticker = ticker;
        this.readers = readers;
    }

    private static ScheduledExecutorService timer() {
        var t = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform()
                .name("meerkat-sampler").daemon(true).unstarted(r));
        t.setRemoveOnCancelPolicy(true); // a read's watchdog, cancelled when the read ends, wakes nobody
        return t;
    }

    private long gridStart = Long.MIN_VALUE; // guarded by this; set at the first sensor's start

    /**
     * How long until the sampler's next tick for {@code interval}: every sensor's ticks fall on one
     * grid (multiples of its interval after the first sensor started), so that sensors of one
     * interval, or of intervals that divide each other, are read in one wake-up of the timer.
     */
    private long untilTick(java.time.Duration interval) {
        long now = ticker.nanos(), period = interval.toNanos();
        if (gridStart == Long.MIN_VALUE) gridStart = now;
        long offset = Math.floorMod(now - gridStart, period);
        return offset == 0 ? 0 : period - offset;
    }

    /** What an {@link #apply} changed, by sensor id. */
    public record Changes(Set<String> added, Set<String> changed, Set<String> removed) {
        public boolean none() {
            return added.isEmpty() && changed.isEmpty() && removed.isEmpty();
        }

        @Override
        public String toString() {
            return "added=" + added + " changed=" + changed + " removed=" + removed;
        }
    }

    /**
     * Makes the running sensors those of {@code sensors}: stops the removed ones, restarts only
     * those whose settings changed, starts the added ones. The others run on untouched.
     */
    public synchronized Changes apply(Map<String, SensorConfig> sensors) {
        Set<String> added = new TreeSet<>(), changed = new TreeSet<>(), removed = new TreeSet<>();
        for (var it = running.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            SensorConfig next = sensors.get(e.getKey());
            if (next == null || !next.equals(e.getValue().config())) {
                e.getValue().close();
                it.remove();
                (next == null ? removed : changed).add(e.getKey());
            }
        }
        for (SensorConfig s : sensors.values()) {
            if (running.containsKey(s.id())) continue;
            var driver = drivers.get(s.driver());
            if (driver.isEmpty()) {
                log.error("sensor={} names driver={} which is not installed; not started", s.id(), s.driver());
                continue;
            }
            SensorRunner runner = new SensorRunner(s, driver.get(), context, timer, ticker, readers, seqs, sink, onStateChange,
                    locks, busLocks);
            running.put(s.id(), runner);
            runner.start(untilTick(s.interval()));
            if (!changed.contains(s.id())) added.add(s.id());
        }
        return new Changes(added, changed, removed);
    }

    public synchronized Map<String, SensorRunner> sensors() {
        return Map.copyOf(running);
    }

    @Override
    public synchronized void close() {
        running.values().forEach(SensorRunner::close);
        running.clear();
        timer.shutdownNow();
        readers.shutdownNow();
        try {
            if (!readers.awaitTermination(2, TimeUnit.SECONDS)) log.warn("some sensor reads did not end within 2s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The timer thread runs a task within {@code timeout}: sampling is not wedged. */
    public boolean alive(java.time.Duration timeout) {
        try {
            timer.submit(() -> {}).get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException
                 | java.util.concurrent.RejectedExecutionException e) {
            return false;
        }
    }
}
