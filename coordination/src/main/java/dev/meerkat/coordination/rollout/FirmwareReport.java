package dev.meerkat.coordination.rollout;

import java.util.List;

/**
 * {@code /fleets/F/devices/D/firmware/report} (SPEC §7): device D's progress on its target, written
 * by the device at every state change (and while downloading, at most once a second).
 *
 * @param state one of {@link #STATES}
 * @param reason why it failed or rolled back; null otherwise
 * @param bytes bytes of the artifact downloaded so far (downloading), else null
 * @param total the artifact's size when the server said it, else null
 * @param running the firmware the device runs now
 * @param history every state of this target so far, with its time
 */
public record FirmwareReport(String rollout, String firmware, String state, String at, String reason,
                             Long bytes, Long total, String running, List<Step> history) {
    /** A report's states, in the order a target goes through them; {@link #json()} is the name in the report. */
    public enum State {
        PENDING, DOWNLOADING, VERIFYING, INSTALLING, RESTARTING, HEALTHY, FAILED, ROLLED_BACK;

        public String json() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /** The names of the states, as a report holds them. */
    public static final List<String> STATES = java.util.Arrays.stream(State.values()).map(State::json).toList();

    public record Step(String state, String at, String reason) {}

    public boolean healthy() {
        return State.HEALTHY.json().equals(state);
    }

    public boolean failed() {
        return State.FAILED.json().equals(state) || State.ROLLED_BACK.json().equals(state);
    }

    public boolean finished() {
        return healthy() || failed();
    }

    /** Reads one as written by this or a later version (unknown keys are ignored). */
    public static FirmwareReport read(byte[] json) throws java.io.IOException {
        return dev.meerkat.config.Json.readTolerant(json, FirmwareReport.class);
    }
}
