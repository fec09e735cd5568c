package dev.meerkat.agent.metrics;

import dev.meerkat.config.BootstrapConfig;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's Prometheus endpoint ({@code metrics.listen}): {@code /metrics} on the JDK's HTTP
 * server, through the Prometheus Java client: the agent's series ({@link StatusMetrics}) and the
 * process's memory and CPU. Nothing of it is loaded unless configured: the agent refers to this
 * class only when {@code metrics} is in its bootstrap config. One thread answers scrapes, from
 * memory; a scrape never waits on ZooKeeper or MQTT.
 */
public final class MetricsEndpoint implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);
    private final HTTPServer server;
    private final ExecutorService scrapes;

    private MetricsEndpoint(HTTPServer server, ExecutorService scrapes) {
        this.server = server;
        this.scrapes = scrapes;
    }

    /** Serves {@code status}'s series at {@code listen}; an address that cannot be had stops the start, naming the key. */
    public static MetricsEndpoint start(BootstrapConfig.Metrics listen, Supplier<Map<String, Object>> status, Clock clock) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new StatusMetrics(status, clock));
        ProcessMetrics.builder().register(registry);
        ExecutorService scrapes = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("meerkat-metrics").daemon(true).unstarted(r));
        try {
            HTTPServer server = HTTPServer.builder().hostname(listen.host()).port(listen.port()).registry(registry)
                    .executorService(scrapes).buildAndStart();
            log.info("metrics at http://{}/metrics", listen);
            return new MetricsEndpoint(server, scrapes);
        } catch (BindException e) {
            scrapes.shutdownNow();
            throw new IOException("metrics.listen " + listen + ": cannot listen there (" + e.getMessage()
                    + "): another process has the port, or the address is not this machine's; choose another in the bootstrap config", e);
        } catch (IOException | RuntimeException e) {
            scrapes.shutdownNow();
            throw new IOException("metrics.listen " + listen + ": cannot listen there: " + e, e);
        }
    }

    /** The port it listens on (the one configured). */
    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
        scrapes.shutdownNow();
    }
}
