package dev.meerkat.coordination;

/**
 * The znodes of SPEC §3 for one device of one fleet, as absolute paths under {@code zookeeper.root}.
 *
 * <p>The agent's Curator client is not namespaced: Curator makes sure a namespace's root exists on
 * first use, retrying until connected, which would hold up a start with ZooKeeper unreachable.
 */
public record FleetPaths(String root, String fleet, String device) {
    public String fleetConfig() {
        return root + "/fleets/" + fleet + "/config";
    }

    public String deviceConfig() {
        return root + "/fleets/" + fleet + "/devices/" + device + "/config";
    }

    public static String agentDoc(String configRoot) {
        return configRoot + "/agent";
    }

    public static String sensorsDir(String configRoot) {
        return configRoot + "/sensors";
    }

    public String members() {
        return root + "/fleets/" + fleet + "/members";
    }

    public String member() {
        return members() + "/" + device;
    }

    public String status() {
        return root + "/fleets/" + fleet + "/devices/" + device + "/status";
    }

    public String election() {
        return root + "/fleets/" + fleet + "/election";
    }

    /** The slots of the agents that stand in the election ({@code Candidacy}). */
    public String candidates() {
        return root + "/fleets/" + fleet + "/candidates";
    }

    public String rollouts() {
        return root + "/fleets/" + fleet + "/rollouts";
    }

    public String rollout(String id) {
        return rollouts() + "/" + id;
    }

    public String rolloutState(String id) {
        return rollout(id) + "/state";
    }

    /** {@code firmware/target} of any device of the fleet (the leader writes them all). */
    public String firmwareTarget(String device) {
        return root + "/fleets/" + fleet + "/devices/" + device + "/firmware/target";
    }

    public String firmwareReport(String device) {
        return root + "/fleets/" + fleet + "/devices/" + device + "/firmware/report";
    }

    /** The lock of a shared hardware resource, SPEC §6: {@code lock} is the sensor's, like {@code site-7/i2c-1/0x76}. */
    public static String lock(String root, String lock) {
        return root + "/locks/" + lock;
    }

    /** A path as operators and the SPEC write it, relative to the root: {@code /fleets/F/...}. */
    public String relative(String path) {
        return path.startsWith(root + "/") ? path.substring(root.length()) : path;
    }
}
