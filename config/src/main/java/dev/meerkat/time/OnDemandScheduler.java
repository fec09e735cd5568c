package dev.meerkat.time;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The worker of one component (the registration, the config applier, the status writer, ...): its
 * tasks run one at a time, in the order they fall due, on a platform thread of its own that exists
 * only while there is work, and goes after {@link #IDLE} without any. Delays wait on one timer
 * thread the whole process shares, which only hands each task to its component when it is due and
 * never runs one itself; so a component blocked in a ZooKeeper call holds up no other, as with a
 * thread each, but an idle agent does not keep a thread per component.
 *
 * <p>One-shot {@link #schedule} and {@link #execute} only (periodic tasks are not needed by its
 * users and not offered). {@link #shutdown} and {@link #shutdownNow} both drop the delayed tasks
 * not yet due; {@code shutdownNow} also interrupts the task running.
 */
public final class OnDemandScheduler extends AbstractExecutorService implements ScheduledExecutorService {
    /** How long a component's thread stays without work before it goes. */
    public static final Duration IDLE = Duration.ofMinutes(1);

    private static final class SharedTimer {
        static final ScheduledExecutorService TIMER = timer();

        private static ScheduledExecutorService timer() {
            var t = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().name("meerkat-timer").daemon(true).unstarted(r));
            t.setRemoveOnCancelPolicy(true); // a cancelled delay wakes nobody
            return t;
        }
    }

    private final ScheduledExecutorService timer;
    private final ThreadPoolExecutor lane;
    private final Set<Pending<?>> pending = ConcurrentHashMap.newKeySet();

    /** A worker whose thread is named {@code name}, on the process's shared timer. */
    public OnDemandScheduler(String name) {
        this(name, SharedTimer.TIMER, IDLE);
    }

    /** The same, its thread going after {@code idle} without work (for a component whose work comes at longer intervals). */
    public OnDemandScheduler(String name, Duration idle) {
        this(name, SharedTimer.TIMER, idle);
    }

    /** The same on a given timer (a test's), its thread going after {@code idle}. */
    public OnDemandScheduler(String name, ScheduledExecutorService timer, Duration idle) {
        this.timer = timer;
        this.lane = new ThreadPoolExecutor(0, 1, idle.toNanos(), TimeUnit.NANOSECONDS, new LinkedBlockingQueue<>(),
                r -> Thread.ofPlatform().name(name).daemon(true).unstarted(r));
    }

    /** Whether the component's thread is there now (it is while it has work, and for {@link #IDLE} after). */
    public boolean threadAlive() {
        return lane.getPoolSize() > 0;
    }

    /** As a {@code ScheduledThreadPoolExecutor} does, what the task throws ends up in a future no one reads; the thread goes on. */
    @Override
    public void execute(Runnable task) {
        lane.execute(new FutureTask<>(task, null));
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
        return schedule(Executors.callable(task, null), delay, unit);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> task, long delay, TimeUnit unit) {
        if (lane.isShutdown()) throw new RejectedExecutionException("shut down");
        Pending<V> p = new Pending<>(new FutureTask<>(task));
        pending.add(p);
        p.delay = timer.schedule(p::due, delay, unit);
        if (lane.isShutdown()) p.cancel(false); // shut down meanwhile: shutdown's sweep may have missed it
        return p;
    }

    /** A task waiting on the timer, then on the component's thread. */
    private final class Pending<V> implements ScheduledFuture<V> {
        final FutureTask<V> work;
        volatile ScheduledFuture<?> delay;

        Pending(FutureTask<V> work) {
            this.work = work;
        }

        /** On the timer's thread: hands the task over, never runs it. */
        void due() {
            pending.remove(this);
            try {
                lane.execute(work);
            } catch (RejectedExecutionException shutDown) {
                work.cancel(false);
            }
        }

        @Override
        public long getDelay(TimeUnit unit) {
            ScheduledFuture<?> d = delay;
            return d == null ? 0 : d.getDelay(unit);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            pending.remove(this);
            ScheduledFuture<?> d = delay;
            if (d != null) d.cancel(false);
            return work.cancel(mayInterruptIfRunning);
        }

        @Override
        public boolean isCancelled() {
            return work.isCancelled();
        }

        @Override
        public boolean isDone() {
            return work.isDone();
        }

        @Override
        public V get() throws InterruptedException, ExecutionException {
            return work.get();
        }

        @Override
        public V get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            return work.get(timeout, unit);
        }
    }

    private void dropPending() {
        for (Pending<?> p : pending) p.cancel(false);
    }

    @Override
    public void shutdown() {
        lane.shutdown();
        dropPending();
    }

    @Override
    public List<Runnable> shutdownNow() {
        List<Runnable> queued = lane.shutdownNow();
        dropPending();
        return queued;
    }

    @Override
    public boolean isShutdown() {
        return lane.isShutdown();
    }

    @Override
    public boolean isTerminated() {
        return lane.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return lane.awaitTermination(timeout, unit);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        throw new UnsupportedOperationException("periodic tasks: schedule the next one from the task");
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("periodic tasks: schedule the next one from the task");
    }
}
