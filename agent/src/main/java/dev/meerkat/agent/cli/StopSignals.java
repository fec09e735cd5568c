package dev.meerkat.agent.cli;

import sun.misc.Signal;

/**
 * SIGTERM (systemd's stop) and SIGINT (Ctrl-C) as a request for a clean stop. The JDK's shutdown
 * hooks cannot do this: the exit status after a hook is 143, and systemd and scripts expect 0 from
 * a clean stop. {@code sun.misc.Signal} is in {@code jdk.unsupported}, which every JDK ships.
 */
public final class StopSignals {
    private StopSignals() {}

    /** Runs {@code onStop} (on the JDK's signal thread) when SIGTERM or SIGINT arrives. */
    public static void handle(java.util.function.Consumer<String> onStop) {
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> onStop.accept("SIG" + s.getName()));
        }
    }
}
