package dev.meerkat.drivers;

import dev.meerkat.drivers.bus.Buses;
import java.time.Clock;

/**
 * What the agent hands a driver when it opens a sensor: time (injected so tests can drive it), the
 * device id, and the buses to reach its hardware through.
 */
public record DriverContext(Clock clock, String deviceId, Buses buses) {
    /** For sensors with no hardware. */
    public DriverContext(Clock clock, String deviceId) {
        this(clock, deviceId, Buses.NONE);
    }

    public DriverContext withBuses(Buses b) {
        return new DriverContext(clock, deviceId, b);
    }
}
