package dev.meerkat.coordination.security;

import java.io.Closeable;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * While the agent has no ZooKeeper connection, looks every {@code period} for a TLS reason
 * ({@link TlsProbe}) and logs it once as an error: a refused certificate is otherwise only a closed
 * socket in ZooKeeper's own log. A platform daemon thread that sleeps while connected.
 */
public final class TlsDiagnosis implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(TlsDiagnosis.class);

    private final Thread thread;

    private TlsDiagnosis(Thread thread) {
        this.thread = thread;
    }

    public static TlsDiagnosis start(String connect, SSLContext context, BooleanSupplier connected, Duration period) {
        Thread t = Thread.ofPlatform().daemon().name("zk-tls-diagnosis").unstarted(() -> {
            Set<String> said = new HashSet<>();
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(period.toMillis());
                    if (connected.getAsBoolean()) {
                        said.clear(); // a later failure is news again
                        continue;
                    }
                    for (TlsProbe.Result r : TlsProbe.probe(connect, context)) {
                        if (r.tlsProblem() && said.add(r.message())) log.error("zookeeper TLS: {}", r.message());
                    }
                }
            } catch (InterruptedException stop) {
                // closed
            }
        });
        t.start();
        return new TlsDiagnosis(t);
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
