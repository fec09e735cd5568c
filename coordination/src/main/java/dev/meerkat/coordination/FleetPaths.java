package dev.meerkat.coordination;

/**
 * The znodes of SPEC §3 for one device of one fleet, relative to the Meerkat root (the Curator
 * client is namespaced to {@code zookeeper.root}).
 */
public record FleetPaths(String fleet, String device) {
    public String fleetConfig() {
        return "/fleets/" + fleet + "/config";
    }

    public String deviceConfig() {
        return "/fleets/" + fleet + "/devices/" + device + "/config";
    }

    public static String agentDoc(String configRoot) {
        return configRoot + "/agent";
    }

    public static String sensorsDir(String configRoot) {
        return configRoot + "/sensors";
    }

    public String members() {
        return "/fleets/" + fleet + "/members";
    }

    public String member() {
        return members() + "/" + device;
    }

    public String status() {
        return "/fleets/" + fleet + "/devices/" + device + "/status";
    }
}
