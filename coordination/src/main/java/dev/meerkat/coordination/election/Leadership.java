package dev.meerkat.coordination.election;

/**
 * One term of leadership: the leader's device id, the path of its latch znode (the fencing token:
 * it exists only while this term lasts) and the epoch, the znode's sequence number, which grows
 * with every new term in the fleet. The epoch goes into everything the leader writes, so an
 * operator sees which term wrote it.
 */
public record Leadership(String leader, String token, long epoch) {
    /** The sequence number ZooKeeper appended to a sequential znode's name (its last 10 digits). */
    static long epochOf(String path) {
        int i = path.length();
        while (i > 0 && Character.isDigit(path.charAt(i - 1))) i--;
        String digits = path.substring(i);
        return digits.isEmpty() ? 0 : Long.parseLong(digits);
    }
}
