package dev.meerkat.coordination.election;

/**
 * One term of leadership: the leader's device id, the path of its latch znode (the fencing token:
 * it exists only while this term lasts) and the epoch, the zxid that created that znode, which
 * grows with every new term for the ensemble's lifetime (also when the election's parent, a
 * container znode, was removed while empty and the latch's sequence numbers start again). The
 * epoch goes into everything the leader writes, so an operator sees which term wrote it.
 */
public record Leadership(String leader, String token, long epoch) {}
