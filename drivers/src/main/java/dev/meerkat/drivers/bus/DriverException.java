package dev.meerkat.drivers.bus;

/**
 * A driver could not do what it was asked. Transient errors (a NACK, a bad CRC) are worth trying
 * again on the next interval; permanent ones (wrong chip id, no permission) are not.
 */
public final class DriverException extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean permanent;

    public DriverException(String message, boolean permanent) {
        super(message);
        this.permanent = permanent;
    }

    public DriverException(String message, boolean permanent, Throwable cause) {
        super(message, cause);
        this.permanent = permanent;
    }

    public boolean permanent() {
        return permanent;
    }
}
