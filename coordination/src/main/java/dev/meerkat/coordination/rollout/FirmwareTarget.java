package dev.meerkat.coordination.rollout;

import dev.meerkat.config.RolloutDocument;

/**
 * {@code /fleets/F/devices/D/firmware/target} (SPEC §7): what the leader asks device D to run, with
 * everything the device needs to fetch, check and install it. Written by the leader (fenced, with
 * its epoch), read by the device.
 *
 * @param healthTimeout the rollout's, as written ({@code 10m}); the device bounds its own self-check by it
 */
public record FirmwareTarget(String rollout, String firmware, RolloutDocument.Artifact artifact, String installer,
                             String healthTimeout, String leader, long epoch, String at) {
    public boolean names(String rolloutId, String version) {
        return rolloutId.equals(rollout) && version.equals(firmware);
    }

    /** Reads one as written by this or a later version (unknown keys are ignored). */
    public static FirmwareTarget read(byte[] json) throws java.io.IOException {
        return dev.meerkat.config.Json.readTolerant(json, FirmwareTarget.class);
    }
}
