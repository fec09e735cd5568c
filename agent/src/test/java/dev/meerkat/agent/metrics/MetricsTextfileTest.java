package dev.meerkat.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.config.BootstrapConfig;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code metrics.textfile}: node_exporter never reads it half-written, and a directory it cannot write to is a problem, not a crash. */
class MetricsTextfileTest {
    @TempDir
    Path dir;

    private MetricsEndpoint start(Path file) throws Exception {
        return MetricsEndpoint.start(new BootstrapConfig.Metrics(null, 0, Optional.of(file), Duration.ofHours(1)),
                () -> StatusMetricsTest.STATUS, Clock.systemUTC());
    }

    @Test
    void aReaderNeverSeesTheFileHalfWritten() throws Exception {
        Path file = dir.resolve("meerkat.prom");
        try (MetricsEndpoint m = start(file)) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = Thread.ofPlatform().start(() -> {
                while (!stop.get()) m.write(file);
            });
            int reads = 0;
            try {
                long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
                while (System.nanoTime() < end) {
                    String text;
                    try {
                        text = Files.readString(file);
                    } catch (NoSuchFileException notYet) {
                        continue;
                    }
                    reads++;
                    assertTrue(text.startsWith("# HELP ") && text.endsWith("\n") && text.contains("meerkat_readings_acknowledged_total{sensor=\"b\"} 33.0\n")
                            && text.contains("process_resident_memory_bytes"), "a read of " + text.length() + " bytes: " + text);
                }
            } finally {
                stop.set(true);
                writer.join();
            }
            assertTrue(reads > 100, "only " + reads + " reads");
            assertNull(m.problem());
            try (var s = Files.list(dir)) {
                assertEquals(1, s.filter(p -> p.getFileName().toString().endsWith(".prom")).count(), "node_exporter sees one .prom file");
            }
        }
    }

    @Test
    void aDirectoryThatCannotBeWrittenIsAProblemNotACrash() throws Exception {
        Path file = dir.resolve("missing").resolve("meerkat.prom");
        try (MetricsEndpoint m = start(file)) {
            m.write(file);
            assertTrue(m.problem() != null && m.problem().startsWith("metrics.textfile " + file + ": cannot be written"), String.valueOf(m.problem()));
            Files.createDirectories(file.getParent());
            m.write(file);
            assertNull(m.problem(), "written again once it can be");
            assertTrue(Files.readString(file).contains("meerkat_build_info"));
        }
    }
}
