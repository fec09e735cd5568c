package dev.meerkat.coordination.locks;

/**
 * One hold of a hardware lock (SPEC §6). Act on the hardware only while {@link #valid()}: check
 * before every bus transaction ({@link #check()}), not once at the start.
 *
 * <p>A hold stops being valid, at once and for good, when:
 * <ul>
 *   <li>the ZooKeeper connection is suspended or the session lost (the session may expire while the
 *       agent cannot hear about it, and then another gateway takes the lock);
 *   <li>its lease runs out: the hold is valid for half the negotiated session timeout after
 *       the last moment the servers are known to have heard from this session (the acquisition, or a
 *       check made for the purpose). The servers cannot expire the session before a whole timeout has
 *       passed since then, so a process paused past that point (SIGSTOP, a long GC, a suspended VM)
 *       finds its hold invalid when it resumes, whatever its ZooKeeper client has noticed yet;
 *   <li>it is released.
 * </ul>
 * The clock is the locks' {@link dev.meerkat.time.Ticker} ({@link System#nanoTime()} in the agent),
 * which keeps counting while the process is stopped.
 */
public final class Hold implements AutoCloseable {
    private final HardwareLocks.Entry entry;
    private final long token;
    private final long epoch;
    private final long validUntilNanos;
    private volatile boolean released;

    Hold(HardwareLocks.Entry entry, long token, long epoch, long validUntilNanos) {
        this.entry = entry;
        this.token = token;
        this.epoch = epoch;
        this.validUntilNanos = validUntilNanos;
    }

    /** The fencing token: the creation zxid of this hold's lock znode, which only grows from hold to hold. */
    public long token() {
        return token;
    }

    /** Whether the hardware may still be touched under this hold. */
    public boolean valid() {
        return !released && entry.owner.epoch() == epoch && entry.owner.ticker.nanos() - validUntilNanos < 0;
    }

    /** Throws unless {@link #valid()}; call it right before each bus transaction. */
    public void check() throws LockException {
        if (released) throw new LockException("lock " + entry.name + " was released");
        if (entry.owner.epoch() != epoch) {
            throw new LockException("lock " + entry.name + ": the ZooKeeper connection was suspended or the session lost");
        }
        if (entry.owner.ticker.nanos() - validUntilNanos >= 0) {
            throw new LockException("lock " + entry.name + ": held past its lease (the process was paused or too slow)");
        }
    }

    /** Releases the lock (in the background; the next acquisition of the same lock waits for it). */
    @Override
    public void close() {
        if (released) return;
        released = true;
        entry.release(this);
    }
}
