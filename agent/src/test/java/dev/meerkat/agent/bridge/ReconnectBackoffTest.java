package dev.meerkat.agent.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReconnectBackoffTest {

    @Test
    void doublesFromAQuarterSecondUpToThirtySecondsBetweenHalfAndAllOfEachStep() {
        ReconnectBackoff shortest = new ReconnectBackoff(n -> 0), longest = new ReconnectBackoff(n -> n);
        List<Long> low = new ArrayList<>(), high = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            low.add(shortest.nextMillis());
            high.add(longest.nextMillis());
        }
        assertEquals(List.of(125L, 250L, 500L, 1000L, 2000L, 4000L, 8000L, 15000L, 15000L, 15000L), low);
        assertEquals(List.of(250L, 500L, 1000L, 2000L, 4000L, 8000L, 16000L, 30000L, 30000L, 30000L), high);
    }

    @Test
    void aConnectionStartsItAgainFromTheShortestStep() {
        ReconnectBackoff b = new ReconnectBackoff(n -> n);
        b.nextMillis();
        b.nextMillis();
        assertEquals(1000, b.nextMillis());
        b.reset();
        assertEquals(250, b.nextMillis());
    }
}
