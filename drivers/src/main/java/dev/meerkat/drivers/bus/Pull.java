package dev.meerkat.drivers.bus;

/** The bias of an input line. */
public enum Pull {
    NONE, UP, DOWN
}
