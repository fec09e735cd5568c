package dev.meerkat.drivers;

import java.time.Clock;

/** What the agent hands a driver when it opens a sensor. Time is injected so tests can drive it. */
public record DriverContext(Clock clock, String deviceId) {}
