package dev.meerkat.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.testing.Await;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OnDemandSchedulerTest {
    private static final Duration LONG = Duration.ofMinutes(5);

    @Test
    void tasksRunOneAtATimeInTheOrderTheyFallDueOnTheComponentsThread() throws Exception {
        ManualScheduler timer = new ManualScheduler();
        OnDemandScheduler s = new OnDemandScheduler("meerkat-test-lane", timer, LONG);
        List<String> ran = new CopyOnWriteArrayList<>();
        ScheduledFuture<?> last = null;
        for (int ms : new int[] {30, 10, 20}) {
            ScheduledFuture<?> f = s.schedule(() -> ran.add(ms + "ms on " + Thread.currentThread().getName()), ms, TimeUnit.MILLISECONDS);
            if (ms == 30) last = f;
        }
        assertFalse(s.threadAlive(), "no thread before there is work");
        timer.advance(Duration.ofMillis(19));
        Await.until(Duration.ofSeconds(5), "the first due", () -> ran.size() == 1);
        assertEquals(List.of("10ms on meerkat-test-lane"), ran);
        timer.advance(Duration.ofMillis(11));
        last.get(5, TimeUnit.SECONDS);
        assertEquals(List.of("10ms on meerkat-test-lane", "20ms on meerkat-test-lane", "30ms on meerkat-test-lane"), ran);
        s.shutdownNow();
    }

    @Test
    void theThreadGoesWhenIdleAndComesBackForTheNextTask() throws Exception {
        OnDemandScheduler s = new OnDemandScheduler("meerkat-test-idle", new ManualScheduler(), Duration.ofMillis(50));
        CountDownLatch ran = new CountDownLatch(2);
        s.execute(ran::countDown);
        assertTrue(s.threadAlive());
        Await.until(Duration.ofSeconds(5), "the thread gone once idle", () -> !s.threadAlive());
        s.execute(ran::countDown);
        assertTrue(ran.await(5, TimeUnit.SECONDS));
        s.shutdownNow();
    }

    @Test
    void aComponentBlockedInACallHoldsUpNoOther() throws Exception {
        ManualScheduler timer = new ManualScheduler();
        OnDemandScheduler blocked = new OnDemandScheduler("meerkat-test-blocked", timer, LONG);
        OnDemandScheduler other = new OnDemandScheduler("meerkat-test-other", timer, LONG);
        CountDownLatch release = new CountDownLatch(1);
        blocked.schedule(() -> {
            release.await();
            return null;
        }, 10, TimeUnit.MILLISECONDS);
        ScheduledFuture<String> answer = other.schedule(() -> "answered", 20, TimeUnit.MILLISECONDS);
        timer.advance(Duration.ofMillis(20));
        assertEquals("answered", answer.get(5, TimeUnit.SECONDS));
        release.countDown();
        blocked.shutdownNow();
        other.shutdownNow();
    }

    @Test
    void shutdownNowInterruptsTheTaskRunningAndDropsThoseNotYetDue() throws Exception {
        ManualScheduler timer = new ManualScheduler();
        OnDemandScheduler s = new OnDemandScheduler("meerkat-test-stop", timer, LONG);
        CountDownLatch started = new CountDownLatch(1), interrupted = new CountDownLatch(1);
        s.execute(() -> {
            started.countDown();
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
        });
        List<String> late = new CopyOnWriteArrayList<>();
        ScheduledFuture<?> notYetDue = s.schedule(() -> late.add("ran"), 10, TimeUnit.MILLISECONDS);
        assertTrue(started.await(5, TimeUnit.SECONDS));
        s.shutdownNow();
        assertTrue(interrupted.await(5, TimeUnit.SECONDS), "the running task interrupted");
        assertTrue(notYetDue.isCancelled());
        timer.advance(Duration.ofMillis(20));
        assertTrue(s.awaitTermination(5, TimeUnit.SECONDS));
        assertEquals(List.of(), late);
        assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> s.schedule(() -> { }, 1, TimeUnit.MILLISECONDS));
    }

    @Test
    void aTaskThatThrowsLeavesTheThreadToTheNext() throws Exception {
        OnDemandScheduler s = new OnDemandScheduler("meerkat-test-throws", new ManualScheduler(), LONG);
        List<String> threads = new CopyOnWriteArrayList<>();
        CountDownLatch next = new CountDownLatch(1);
        s.execute(() -> {
            threads.add(Thread.currentThread().toString());
            throw new IllegalStateException("a component's bug");
        });
        s.execute(() -> {
            threads.add(Thread.currentThread().toString());
            next.countDown();
        });
        assertTrue(next.await(5, TimeUnit.SECONDS));
        assertEquals(1, threads.stream().distinct().count(), "the same thread: " + threads);
        s.shutdownNow();
    }

    @Test
    void aCancelledTaskDoesNotRun() throws Exception {
        ManualScheduler timer = new ManualScheduler();
        OnDemandScheduler s = new OnDemandScheduler("meerkat-test-cancel", timer, LONG);
        List<String> ran = new CopyOnWriteArrayList<>();
        ScheduledFuture<?> cancelled = s.schedule(() -> ran.add("cancelled"), 10, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> kept = s.schedule(() -> ran.add("kept"), 20, TimeUnit.MILLISECONDS);
        assertTrue(cancelled.cancel(false));
        timer.advance(Duration.ofMillis(20));
        kept.get(5, TimeUnit.SECONDS);
        assertEquals(List.of("kept"), ran);
        s.shutdownNow();
    }
}
