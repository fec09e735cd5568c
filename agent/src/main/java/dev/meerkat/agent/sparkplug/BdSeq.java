package dev.meerkat.agent.sparkplug;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge node's birth/death sequence number, 0-255, one per MQTT connection, kept across
 * restarts in a file of its own (written whole and forced before the connection that uses it), so
 * that a host never sees a node's bdSeq go back after a restart or a power cut.
 */
final class BdSeq {
    private static final Logger log = LoggerFactory.getLogger(BdSeq.class);
    private final Path file;

    BdSeq(Path file) {
        this.file = file;
    }

    /** The bdSeq for the next connection: one past the last one used (0 at first, and after 255). */
    long next() {
        long last = -1;
        try {
            if (Files.exists(file)) last = Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).trim());
        } catch (IOException | NumberFormatException e) {
            log.warn("{} not read ({}): the node's bdSeq starts again at 0", file, e.toString());
        }
        long next = last < 0 || last >= 255 ? 0 : last + 1;
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, next + "\n", StandardCharsets.UTF_8);
            try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                c.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            log.warn("{} not written ({}): after a restart the node's bdSeq may repeat", file, e.toString());
        }
        return next;
    }
}
