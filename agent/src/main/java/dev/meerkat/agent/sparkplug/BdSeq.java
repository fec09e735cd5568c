package dev.meerkat.agent.sparkplug;

import dev.meerkat.agent.journal.CheckedFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge node's birth/death sequence number, 0-255, one per MQTT connection, kept across
 * restarts in a file of its own ({@link CheckedFile}: written whole, checksummed and forced before
 * the connection that uses it), so that a host never sees a node's bdSeq go back after a restart
 * or a power cut.
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
            var read = CheckedFile.read(file);
            if (read.isPresent() && !read.get().lines().isEmpty()) last = Long.parseLong(read.get().lines().get(0).trim());
        } catch (IOException | NumberFormatException e) {
            log.warn("{} not read ({}): the node's bdSeq starts again at 0", file, e.toString());
        }
        long next = last < 0 || last >= 255 ? 0 : last + 1;
        try {
            Files.createDirectories(file.getParent());
            CheckedFile.write(file, next + "\n", true);
        } catch (IOException e) {
            log.warn("{} not written ({}): after a restart the node's bdSeq may repeat", file, e.toString());
        }
        return next;
    }
}
