package dev.meerkat.agent.firmware;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The health check after a firmware update, on a clock of the test's: its limit, its polls, its end. */
class HealthCheckTest {
    final AtomicLong nanos = new AtomicLong(5_000_000_000L);
    final List<Duration> slept = new ArrayList<>();
    final HealthCheck check = new HealthCheck(nanos::get, d -> {
        slept.add(d);
        nanos.addAndGet(d.toNanos());
    });

    @Test
    void theLimitIsHalfTheRolloutsHealthTimeoutAtMostFiveMinutes() {
        assertEquals(Duration.ofMinutes(1), HealthCheck.limit(null));
        assertEquals(Duration.ofSeconds(45), HealthCheck.limit("90s"));
        assertEquals(Duration.ofMinutes(5), HealthCheck.limit("1h"));
    }

    @Test
    void aHealthyAgentIsNotWaitedFor() throws Exception {
        assertEquals(Optional.empty(), check.await(Optional::empty, Duration.ofMinutes(1), () -> false));
        assertEquals(List.of(), slept);
    }

    @Test
    void itAsksEveryHalfSecondUntilTheProblemIsGone() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        Optional<String> left = check.await(() -> asked.incrementAndGet() <= 4 ? Optional.of("MQTT not connected") : Optional.empty(),
                Duration.ofMinutes(1), () -> false);
        assertEquals(Optional.empty(), left);
        assertEquals(5, asked.get());
        assertEquals(List.of(HealthCheck.POLL, HealthCheck.POLL, HealthCheck.POLL, HealthCheck.POLL), slept);
    }

    @Test
    void aProblemThatStaysIsTheOutcomeAtTheLimitExactly() throws Exception {
        long t0 = nanos.get();
        Optional<String> left = check.await(() -> Optional.of("sensor s1 is failing"), Duration.ofSeconds(30), () -> false);
        assertEquals(Optional.of("sensor s1 is failing"), left);
        assertEquals(60, slept.size(), "30 s of half-second polls");
        assertEquals(Duration.ofSeconds(30).toNanos(), nanos.get() - t0);
    }

    @Test
    void aStopEndsTheWaitWithTheProblemAsItIs() throws Exception {
        Optional<String> left = check.await(() -> Optional.of("not registered in ZooKeeper"), Duration.ofMinutes(1), () -> slept.size() >= 3);
        assertEquals(Optional.of("not registered in ZooKeeper"), left);
        assertEquals(3, slept.size());
    }
}
