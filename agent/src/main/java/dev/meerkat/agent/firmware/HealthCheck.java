package dev.meerkat.agent.firmware;

import dev.meerkat.config.Durations;
import dev.meerkat.time.Ticker;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The wait for this agent to be healthy after a firmware update: the health problem asked again
 * every {@link #POLL} until there is none or the limit is reached. Time comes from a
 * {@link Ticker} and passes through a {@link Sleeper}, so that a test drives both.
 */
final class HealthCheck {
    static final Duration POLL = Duration.ofMillis(500);
    /** The longest check, whatever the rollout's health timeout. */
    static final Duration MAX = Duration.ofMinutes(5);

    /** Waits {@code d} (or is interrupted). */
    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private final Ticker ticker;
    private final Sleeper sleeper;

    HealthCheck(Ticker ticker, Sleeper sleeper) {
        this.ticker = ticker;
        this.sleeper = sleeper;
    }

    /** On the real clock. */
    static HealthCheck real() {
        return new HealthCheck(Ticker.SYSTEM, d -> Thread.sleep(d.toMillis()));
    }

    /**
     * How long a device checks itself for a rollout's health timeout ({@code null}: 2 minutes):
     * half of it, so that the leader, which waits the whole timeout, hears the outcome in time; at
     * most {@link #MAX}.
     */
    static Duration limit(String healthTimeout) {
        Duration limit = Durations.parse(healthTimeout == null ? "2m" : healthTimeout).dividedBy(2);
        return limit.compareTo(MAX) > 0 ? MAX : limit;
    }

    /**
     * The health problem left after waiting up to {@code limit} for it to go away: empty when the
     * agent became healthy, else the last problem (also when {@code stop} asked to give up early).
     */
    Optional<String> await(Supplier<Optional<String>> problem, Duration limit, BooleanSupplier stop) throws InterruptedException {
        long deadline = ticker.nanos() + limit.toNanos();
        Optional<String> p = problem.get();
        while (p.isPresent() && ticker.nanos() - deadline < 0 && !stop.getAsBoolean()) {
            sleeper.sleep(POLL);
            p = problem.get();
        }
        return p;
    }
}
