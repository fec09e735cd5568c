package dev.meerkat.coordination.rollout;

import java.util.List;
import java.util.Map;

/**
 * {@code /fleets/F/rollouts/R/state} (SPEC §7): the rollout's progress, written by the leader with
 * versioned, fenced writes. It holds everything a new leader needs to resume exactly: the devices
 * chosen for each wave (chosen once, recorded before any target is written), each device's state,
 * the failures counted and the population the percentages are taken of.
 *
 * @param status {@code pending} (created, no leader has taken it yet), {@code running},
 *     {@code paused}, {@code completed}, {@code aborted}, {@code rejected} (the document is invalid)
 * @param population registered members when the rollout started: the base of the percentages
 * @param waves the waves started so far
 * @param devices by device id: every device the rollout chose
 * @param failuresAccepted failures an operator resumed past: only failures beyond them count towards {@code maxFailures}
 * @param pausedAtDocVersion the rollout document's version when the rollout paused: a later write
 *     of the document with {@code "control": "run"} resumes it
 */
public record RolloutState(String status, String reason, int population, List<Wave> waves, Map<String, Device> devices,
                           int failures, int failuresAccepted, int pausedAtDocVersion, String leader, long epoch,
                           String updatedAt) {
    public static final List<String> FINAL = List.of("completed", "aborted");

    /**
     * @param goal how many devices the rollout has reached by the end of this wave
     */
    public record Wave(int goal, List<String> devices, String startedAt, String finishedAt) {}

    /**
     * @param state {@code targeted} (target written, no report yet), a report state of SPEC §7, or
     *     {@code timed-out} (no healthy report within the health timeout; counted as failed)
     */
    public record Device(int wave, String state, String reason, String targetAt, String at) {
        public boolean healthy() {
            return "healthy".equals(state);
        }

        public boolean failed() {
            return "failed".equals(state) || "rolled-back".equals(state) || "timed-out".equals(state);
        }

        public boolean finished() {
            return healthy() || failed();
        }
    }

    public static RolloutState created() {
        return new RolloutState("pending", null, 0, List.of(), Map.of(), 0, 0, -1, null, 0, null);
    }

    public boolean isFinal() {
        return FINAL.contains(status);
    }

    /** Reads one as written by this or a later version (unknown keys are ignored); empty data is a state just created. */
    public static RolloutState read(byte[] json) throws java.io.IOException {
        if (json == null || json.length == 0) return created();
        return dev.meerkat.config.Json.readTolerant(json, RolloutState.class);
    }
}
