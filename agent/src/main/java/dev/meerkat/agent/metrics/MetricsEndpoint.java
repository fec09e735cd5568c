package dev.meerkat.agent.metrics;

import dev.meerkat.config.BootstrapConfig;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's metrics, through the Prometheus Java client: the agent's series ({@link
 * StatusMetrics}) and the process's memory and CPU, served at {@code metrics.listen}
 * ({@code /metrics} on the JDK's HTTP server) and written to {@code metrics.textfile} for
 * node_exporter's textfile collector. Nothing of it is loaded unless configured: the agent refers
 * to this class only when {@code metrics} is in its bootstrap config. One thread answers scrapes
 * and writes the file from what {@code meerkat status} reads: memory, but for who leads the fleet,
 * asked again when what was last seen is over 5 s old and waited for at most a second while
 * connected ({@code Election.leader()}); never MQTT.
 */
public final class MetricsEndpoint implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);
    private final PrometheusRegistry registry;
    private final ScheduledThreadPoolExecutor thread;
    private HTTPServer server;
    /** Why the textfile is not written, or null. */
    private volatile String problem;

    private MetricsEndpoint(PrometheusRegistry registry, ScheduledThreadPoolExecutor thread) {
        this.registry = registry;
        this.thread = thread;
    }

    /**
     * Serves and writes {@code status}'s series as {@code config} says. An address that cannot be
     * had stops the start, naming the key; a textfile that cannot be written is a warning and a
     * problem in the status, and is tried again at each interval.
     */
    public static MetricsEndpoint start(BootstrapConfig.Metrics config, Supplier<Map<String, Object>> status, Clock clock) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new StatusMetrics(status, clock));
        ProcessMetrics.builder().register(registry);
        var thread = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().name("meerkat-metrics").daemon(true).unstarted(r));
        MetricsEndpoint m = new MetricsEndpoint(registry, thread);
        try {
            if (config.listens()) {
                m.server = HTTPServer.builder().hostname(config.host()).port(config.port()).registry(registry)
                        .executorService(thread).buildAndStart();
                log.info("metrics at http://{}/metrics", config);
            }
        } catch (BindException e) {
            thread.shutdownNow();
            throw new IOException("metrics.listen " + config + ": cannot listen there (" + e.getMessage()
                    + "): another process has the port, or the address is not this machine's; choose another in the bootstrap config", e);
        } catch (IOException | RuntimeException e) {
            thread.shutdownNow();
            throw new IOException("metrics.listen " + config + ": cannot listen there: " + e, e);
        }
        config.textfile().ifPresent(file -> {
            long every = config.textfileInterval().toMillis();
            thread.scheduleWithFixedDelay(() -> m.write(file), 0, every, TimeUnit.MILLISECONDS);
            log.info("metrics written to {} every {} ms", file, every);
        });
        return m;
    }

    /**
     * Writes the series to {@code file} whole: a temporary file beside it, whose name node_exporter
     * ignores (it reads {@code *.prom} only), renamed over it. Not fsynced: after a power cut the
     * next write replaces it.
     */
    void write(Path file) {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
            Files.write(tmp, out.toByteArray());
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (problem != null) log.info("metrics written to {} again", file);
            problem = null;
        } catch (IOException | RuntimeException e) {
            String why = "metrics.textfile " + file + ": cannot be written (" + e + "); node_exporter sees old figures or none";
            if (!why.equals(problem)) log.warn("{}; trying again", why);
            problem = why;
        }
    }

    /** Why the textfile is not written now, or null: the status shows it. */
    public String problem() {
        return problem;
    }

    @Override
    public void close() {
        if (server != null) server.close();
        thread.shutdownNow();
    }
}
