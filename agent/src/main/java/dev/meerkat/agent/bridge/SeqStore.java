package dev.meerkat.agent.bridge;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The last {@code seq} of each sensor, one 8-byte file per sensor under {@code DIR/seq/}, so that
 * {@code seq} grows across restarts (SPEC §8). Each new value is written in place before the reading
 * leaves the sampler: a killed process keeps it (the page cache survives the process). It is not
 * fsynced per reading; a power cut can lose the last few, and the durable journal (its own issue)
 * will make the journal itself the record of {@code seq}.
 */
public final class SeqStore implements Closeable {
    private final Path dir;
    private final Map<String, Counter> counters = new HashMap<>();
    // A lock, not synchronized: callers are virtual threads, and file I/O under a monitor pins them on Java 21.
    private final ReentrantLock lock = new ReentrantLock();

    private static final class Counter {
        final FileChannel channel;
        long last;
        final ByteBuffer buf = ByteBuffer.allocate(Long.BYTES);

        Counter(FileChannel channel, long last) {
            this.channel = channel;
            this.last = last;
        }
    }

    public SeqStore(Path storageDir) throws IOException {
        this.dir = storageDir.resolve("seq");
        Files.createDirectories(dir);
    }

    /** The next seq of {@code sensor}: 1 for a sensor never seen, else one more than the last. */
    public long next(String sensor) throws IOException {
        lock.lock();
        try {
            Counter c = counters.get(sensor);
            if (c == null) {
                c = open(sensor);
                counters.put(sensor, c);
            }
            c.buf.clear();
            c.buf.putLong(0, c.last + 1);
            while (c.buf.hasRemaining()) c.channel.write(c.buf, c.buf.position());
            return ++c.last;
        } finally {
            lock.unlock();
        }
    }

    private Counter open(String sensor) throws IOException {
        FileChannel ch = FileChannel.open(dir.resolve(sensor), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        ByteBuffer b = ByteBuffer.allocate(Long.BYTES);
        long last = 0;
        if (ch.size() >= Long.BYTES) {
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) { /* read all 8 bytes */ }
            last = Math.max(0, b.getLong(0));
        }
        return new Counter(ch, last);
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closeAll();
        } finally {
            lock.unlock();
        }
    }

    private void closeAll() {
        for (Counter c : counters.values()) {
            try {
                c.channel.force(false);
                c.channel.close();
            } catch (IOException e) {
                // the value is in the page cache already; closing cannot lose it
            }
        }
        counters.clear();
    }
}
