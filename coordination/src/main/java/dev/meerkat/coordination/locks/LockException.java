package dev.meerkat.coordination.locks;

/** A lock could not be taken (not connected, a ZooKeeper error), or a hold can no longer be trusted: do not touch the hardware. */
public final class LockException extends Exception {
    private static final long serialVersionUID = 1L;

    public LockException(String message) {
        super(message);
    }

    public LockException(String message, Throwable cause) {
        super(message, cause);
    }
}
