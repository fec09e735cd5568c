package dev.meerkat.agent.journal;

import java.nio.file.Path;

/** One segment file of the journal: the ids it holds, its committed bytes, its newest sample time. Guarded by the journal's lock. */
final class Segment {
    final long firstId;
    final Path path;
    long lastId;
    long bytes;
    long lastTs;

    Segment(long firstId, Path path) {
        this.firstId = firstId;
        this.path = path;
        this.lastId = firstId - 1;
    }
}
