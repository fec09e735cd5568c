package dev.meerkat.coordination.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.config.RolloutDocument;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RolloutPlannerTest {
    static final String SHA = "a".repeat(64);
    static final String SIG = java.util.Base64.getEncoder().encodeToString(new byte[64]);
    static final List<String> MEMBERS = IntStream.range(0, 10).mapToObj(i -> "gw-" + i).toList();
    Instant now = Instant.parse("2026-11-21T12:00:00Z");

    static RolloutDocument doc(String waves, String maxFailures, String control) throws Exception {
        String json = "{\"firmware\":\"1.5.0\",\"artifact\":{\"url\":\"file:/tmp/a.zip\",\"sha256\":\"" + SHA + "\",\"signature\":\""
                + SIG + "\"},\"installer\":\"package\",\"waves\":" + waves + ",\"maxFailures\":" + maxFailures
                + ",\"healthTimeout\":\"1m\",\"control\":\"" + control + "\"}";
        return RolloutDocument.parse(json.getBytes(StandardCharsets.UTF_8), "/fleets/f/rollouts/r");
    }

    RolloutPlanner.Plan step(RolloutDocument d, int docVersion, RolloutState s, Map<String, FirmwareReport> reports) {
        return RolloutPlanner.step(new RolloutPlanner.Input("r", d, docVersion, s, MEMBERS, reports, now, Duration.ofMinutes(10), "gw-0", 7));
    }

    static FirmwareReport report(String state) {
        return new FirmwareReport("r", "1.5.0", state, "2026-11-21T12:00:01Z", state.equals("failed") ? "boom" : null, null, null, "1.5.0", List.of());
    }

    static Map<String, FirmwareReport> all(List<String> devices, String state) {
        Map<String, FirmwareReport> m = new HashMap<>();
        devices.forEach(d -> m.put(d, report(state)));
        return m;
    }

    @Test
    void wavesAreCumulativeDeterministicAndWaitForHealth() throws Exception {
        RolloutDocument d = doc("[1, \"30%\", \"100%\"]", "0", "run");
        var p = step(d, 0, RolloutState.created(), Map.of());
        assertEquals("running", p.next().status());
        assertEquals(10, p.next().population());
        assertEquals(1, p.targets().size());
        // Another leader on the same inputs picks the same device.
        assertEquals(p.targets(), step(d, 0, RolloutState.created(), Map.of()).targets());
        // Not healthy yet: the wave holds, the target stays wanted.
        var held = step(d, 0, p.next(), all(p.targets(), "installing"));
        assertEquals(1, held.next().waves().size());
        assertEquals("installing", held.next().devices().get(p.targets().get(0)).state());
        var second = step(d, 0, held.next(), all(p.targets(), "healthy"));
        assertEquals(2, second.next().waves().size());
        assertEquals(2, second.targets().size(), "30% of 10 is 3 in all, 2 more");
        assertTrue(second.targets().stream().noneMatch(p.targets()::contains));
        var third = step(d, 0, second.next(), all(second.targets(), "healthy"));
        assertEquals(7, third.targets().size());
        var done = step(d, 0, third.next(), all(third.targets(), "healthy"));
        assertEquals("completed", done.next().status());
        assertEquals(10, done.next().devices().values().stream().filter(RolloutState.Device::healthy).count());
    }

    @Test
    void failuresPastTheAllowancePauseAndAResumeGoesOn() throws Exception {
        RolloutDocument d = doc("[2, \"100%\"]", "\"10%\"", "run"); // 10% of 10: one failure allowed
        var p = step(d, 0, RolloutState.created(), Map.of());
        Map<String, FirmwareReport> r = new HashMap<>();
        r.put(p.targets().get(0), report("failed"));
        r.put(p.targets().get(1), report("healthy"));
        var next = step(d, 0, p.next(), r);
        assertEquals("running", next.next().status(), "one failure is allowed");
        assertEquals(8, next.targets().size());
        Map<String, FirmwareReport> r2 = all(next.targets(), "healthy");
        r2.put(next.targets().get(0), report("rolled-back"));
        var paused = step(d, 0, next.next(), r2);
        assertEquals("paused", paused.next().status());
        assertTrue(paused.next().reason().contains("maxFailures"), paused.next().reason());
        // Unchanged document: still paused. A later write with control run: resumed, failures accepted.
        assertEquals("paused", step(d, 0, paused.next(), Map.of()).next().status());
        var resumed = step(d, 1, paused.next(), Map.of());
        assertEquals("completed", resumed.next().status());
        assertEquals(2, resumed.next().failuresAccepted());
    }

    @Test
    void aSilentDeviceTimesOutAndCounts() throws Exception {
        RolloutDocument d = doc("[1, \"100%\"]", "0", "run");
        var p = step(d, 0, RolloutState.created(), Map.of());
        now = now.plusSeconds(61);
        var late = step(d, 0, p.next(), Map.of());
        assertEquals("timed-out", late.next().devices().get(p.targets().get(0)).state());
        assertEquals("paused", late.next().status());
        assertTrue(late.targets().isEmpty());
    }

    @Test
    void pauseHoldsTheNextWaveAndAbortEnds() throws Exception {
        var p = step(doc("[1, \"100%\"]", "0", "run"), 0, RolloutState.created(), Map.of());
        var paused = step(doc("[1, \"100%\"]", "0", "pause"), 1, p.next(), all(p.targets(), "healthy"));
        assertEquals("paused", paused.next().status());
        assertEquals(1, paused.next().waves().size(), "nothing beyond a paused wave");
        var aborted = step(doc("[1, \"100%\"]", "0", "abort"), 2, paused.next(), Map.of());
        assertEquals("aborted", aborted.next().status());
        assertTrue(aborted.targets().isEmpty());
        assertEquals(aborted.next(), step(doc("[1, \"100%\"]", "0", "run"), 3, aborted.next(), Map.of()).next());
    }

    @Test
    void aReportOfAnotherRolloutIsIgnored() throws Exception {
        RolloutDocument d = doc("[1]", "0", "run");
        var p = step(d, 0, RolloutState.created(), Map.of());
        FirmwareReport other = new FirmwareReport("old", "1.4.0", "healthy", "x", null, null, null, "1.4.0", List.of());
        var next = step(d, 0, p.next(), Map.of(p.targets().get(0), other));
        assertEquals("targeted", next.next().devices().get(p.targets().get(0)).state());
    }
}
