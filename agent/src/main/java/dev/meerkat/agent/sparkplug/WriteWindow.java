package dev.meerkat.agent.sparkplug;

import dev.meerkat.agent.mqtt.MqttTransportException;
import java.time.Duration;

/**
 * The DDATA of one connection handed to the client and not yet written, at most {@code size}. The
 * client says each one written, in the order they were handed over; once one failed the window is
 * broken, and what that connection says after it does not count (the journal's mark would pass the
 * one that failed): those readings go again on the next connection, whose {@link #reset} starts a
 * new epoch. Thread-safe: the sender takes room, the client's thread gives it back.
 */
final class WriteWindow {
    /** What a write's answer did: counted (the reading leaves the journal), ignored, or broke the window. */
    enum Answer { COUNTED, IGNORED, BROKE }

    private final int size;
    private int inFlight;
    private long epoch;
    private boolean broken, closed;

    WriteWindow(int size) {
        this.size = size;
    }

    /** A new connection: the answers of the one before are not this one's. */
    synchronized void reset() {
        epoch++;
        inFlight = 0;
        broken = false;
    }

    synchronized boolean broken() {
        return broken;
    }

    /**
     * Room for one more, waiting for a write to make some (at most {@code wait} at a time, and again):
     * the epoch to answer with, or -1 when the window was closed meanwhile.
     */
    synchronized long take(Duration wait) throws InterruptedException, MqttTransportException {
        while (inFlight >= size && !broken && !closed) wait(wait.toMillis());
        if (broken) throw new MqttTransportException("a DDATA was not written", null);
        if (closed) return -1;
        inFlight++;
        return epoch;
    }

    /** The client's answer for a write of {@code epoch}: null when it was written. */
    synchronized Answer written(long epoch, Throwable failure) {
        if (epoch != this.epoch || broken) return Answer.IGNORED;
        inFlight--;
        notifyAll();
        if (failure == null) return Answer.COUNTED;
        broken = true;
        return Answer.BROKE;
    }

    synchronized int inFlight() {
        return inFlight;
    }

    /** The stop: a sender waiting for room goes on. */
    synchronized void close() {
        closed = true;
        notifyAll();
    }
}
