package dev.meerkat.agent.bridge;

import java.time.Duration;
import java.util.function.LongUnaryOperator;

/**
 * The delays between attempts to connect to the broker: from 250 ms, doubling up to 30 s, each one
 * drawn between half and all of the current step, so that the gateways a broker restart
 * disconnected together do not all come back at the same moment. One per connection; not
 * thread-safe (its sender thread alone uses it).
 */
public final class ReconnectBackoff {
    static final Duration MIN = Duration.ofMillis(250), MAX = Duration.ofSeconds(30);

    /** Given n, a number from 0 to n inclusive. */
    private final LongUnaryOperator random;
    private Duration step = MIN;

    public ReconnectBackoff() {
        this(n -> java.util.concurrent.ThreadLocalRandom.current().nextLong(n + 1));
    }

    ReconnectBackoff(LongUnaryOperator random) {
        this.random = random;
    }

    /** The delay before the next attempt, in milliseconds; the step after it doubles. */
    public long nextMillis() {
        long ms = step.toMillis() / 2 + random.applyAsLong(step.toMillis() / 2);
        Duration doubled = step.multipliedBy(2);
        step = doubled.compareTo(MAX) > 0 ? MAX : doubled;
        return ms;
    }

    /** Connected: the next failure starts again from the shortest delay. */
    public void reset() {
        step = MIN;
    }
}
