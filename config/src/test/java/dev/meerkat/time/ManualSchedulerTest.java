package dev.meerkat.time;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ManualSchedulerTest {
    @Test
    void tasksRunAtTheirTimesInOrderAndOnlyWhenTimeIsAdvanced() {
        ManualScheduler s = new ManualScheduler();
        List<String> ran = new ArrayList<>();
        long t0 = s.nanos();
        s.schedule(() -> ran.add("b@" + (s.nanos() - t0) / 1_000_000), 20, TimeUnit.MILLISECONDS);
        s.schedule(() -> ran.add("a@" + (s.nanos() - t0) / 1_000_000), 10, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> rate = s.scheduleAtFixedRate(() -> ran.add("r@" + (s.nanos() - t0) / 1_000_000), 0, 15, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> gone = s.schedule(() -> ran.add("never"), 5, TimeUnit.MILLISECONDS);
        gone.cancel(false);
        assertEquals(List.of(), ran);
        s.advance(Duration.ofMillis(31));
        assertEquals(List.of("r@0", "a@10", "r@15", "b@20", "r@30"), ran);
        assertEquals(t0 + 31_000_000, s.nanos());
        rate.cancel(false);
        assertEquals(0, s.pending());
    }

    @Test
    void aFixedDelayCountsFromTheEndOfTheRunAndAThrowingTaskStops() {
        ManualScheduler s = new ManualScheduler();
        List<Long> at = new ArrayList<>();
        long t0 = s.nanos();
        s.scheduleWithFixedDelay(() -> at.add((s.nanos() - t0) / 1_000_000), 5, 10, TimeUnit.MILLISECONDS);
        s.scheduleAtFixedRate(() -> {
            throw new IllegalStateException("stops it");
        }, 0, 1, TimeUnit.MILLISECONDS);
        s.advance(Duration.ofMillis(30));
        assertEquals(List.of(5L, 15L, 25L), at);
        assertEquals(1, s.pending());
    }
}
