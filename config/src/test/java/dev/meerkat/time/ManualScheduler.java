package dev.meerkat.time;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler and a ticker that a test drives: nothing runs and no time passes until the test
 * calls {@link #advance}, which moves the clock task by task and runs each task due, on the
 * test's thread, in time order (ties in the order they were scheduled). Periodic tasks are
 * rescheduled as a {@code ScheduledThreadPoolExecutor} would; a task that throws stops repeating.
 */
public final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService, Ticker {
    private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
    private long now = 1_000_000_000L; // not 0: code may take 0 for "never"
    private long order;
    private boolean shutdown;

    @Override
    public synchronized long nanos() {
        return now;
    }

    /** Moves time on by {@code d}, running every task that falls due on the way, each at its time. */
    public void advance(Duration d) {
        long until;
        synchronized (this) {
            until = now + d.toNanos();
        }
        while (true) {
            Task<?> next;
            synchronized (this) {
                next = queue.peek();
                if (next == null || next.at > until) {
                    now = until;
                    return;
                }
                queue.poll();
                now = Math.max(now, next.at);
            }
            next.runAt();
        }
    }

    /** Runs what is due now (tasks handed to {@link #execute}, and those whose time has come). */
    public void runDue() {
        advance(Duration.ZERO);
    }

    /** Tasks waiting, cancelled ones not counted. */
    public synchronized int pending() {
        return (int) queue.stream().filter(t -> !t.isCancelled()).count();
    }

    private synchronized <V> Task<V> add(Task<V> t) {
        if (shutdown) throw new java.util.concurrent.RejectedExecutionException("shut down");
        t.seq = order++;
        queue.add(t);
        return t;
    }

    private final class Task<V> extends FutureTask<V> implements ScheduledFuture<V> {
        long at, seq;
        final long period; // 0: once; > 0: at a fixed rate; < 0: with a fixed delay

        Task(Callable<V> c, long at, long period) {
            super(c);
            this.at = at;
            this.period = period;
        }

        void runAt() {
            if (period == 0) {
                run();
            } else if (runAndReset()) {
                synchronized (ManualScheduler.this) {
                    at = period > 0 ? at + period : now - period;
                    if (!shutdown) add(this);
                }
            }
        }

        @Override
        public boolean cancel(boolean interrupt) {
            boolean done = super.cancel(interrupt);
            synchronized (ManualScheduler.this) {
                queue.remove(this);
            }
            return done;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(at - nanos(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            Task<?> t = (Task<?>) o;
            return at != t.at ? Long.compare(at, t.at) : Long.compare(seq, t.seq);
        }
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return add(new Task<>(Executors.callable(command), nanos() + unit.toNanos(Math.max(0, delay)), 0));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return add(new Task<>(callable, nanos() + unit.toNanos(Math.max(0, delay)), 0));
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        if (period <= 0) throw new IllegalArgumentException("period " + period);
        return add(new Task<>(Executors.callable(command), nanos() + unit.toNanos(Math.max(0, initialDelay)), unit.toNanos(period)));
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        if (delay <= 0) throw new IllegalArgumentException("delay " + delay);
        return add(new Task<>(Executors.callable(command), nanos() + unit.toNanos(Math.max(0, initialDelay)), -unit.toNanos(delay)));
    }

    @Override
    public void execute(Runnable command) {
        schedule(command, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> left = new ArrayList<>(queue);
        queue.clear();
        return left;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }
}
