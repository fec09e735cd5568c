package dev.meerkat.agent.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads committed records from the journal's segment files, in chunks, through one reused buffer;
 * the sender's reads go on from the byte where its last read of a sensor stopped. The segments'
 * committed sizes are read under the journal's lock, the rest without it.
 */
final class SegmentReader {
    private static final Logger log = LoggerFactory.getLogger(Journal.class);
    private static final int CHUNK = Codec.HEADER + Codec.MAX_BODY; // the longest record there can be
    private static final int SPARE_MAX = 512 << 10;
    private final java.util.concurrent.atomic.AtomicReference<ByteBuffer> spareBuffer = new java.util.concurrent.atomic.AtomicReference<>();
    // Where each reader's last read stopped, by sensor (null: every sensor's), as {afterId, segment, byte} (guarded by readLock).
    private final Object readLock = new Object();
    private final Map<String, long[]> cursors = new HashMap<>();

    private final Object journalLock;

    SegmentReader(Object journalLock) {
        this.journalLock = journalLock;
    }

    /**
     * Up to {@code max} records of {@code from} (segments in id order) with ids in ({@code afterId},
     * {@code upTo}], of {@code sensor} (null: every sensor's). {@code sender}: the reader that goes
     * on from its cursors. {@code recordBytes}: a recent record's size, to size the first chunk.
     */
    Journal.Batch read(List<Segment> from, String sensor, long afterId, long upTo, int max, boolean sender, int recordBytes) {
        List<Record> out = new ArrayList<>();
        Codec.Names names = new Codec.Names();
        long endSegment = -1, endPos = 0;
        boolean beyond = false; // met a reading committed after upTo: stop before it
        for (Segment s : from) {
            long limit;
            synchronized (journalLock) {
                limit = s.bytes; // committed bytes only
            }
            long pos = 0;
            if (sender) {
                synchronized (readLock) {
                    long[] c = cursors.get(sensor);
                    if (c != null && c[0] == afterId && c[1] == s.firstId && c[2] <= limit) pos = c[2];
                }
            }
            ByteBuffer buf = spareBuffer.getAndSet(null); // one buffer for the reads, not one each (a reader decodes copies)
            try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ)) {
                // About what max readings take (a sensor's own may be spread among others'), not a whole chunk each time.
                long want = Math.min(CHUNK, Math.max(64 << 10, (long) (max - out.size()) * recordBytes * 2));
                while (pos < limit && out.size() < max && !beyond) {
                    int size = (int) Math.min(want, limit - pos);
                    if (buf == null || buf.capacity() < size) buf = ByteBuffer.allocate((int) Math.max(size, Math.min(want, CHUNK)));
                    buf.clear().limit(size);
                    while (buf.hasRemaining() && ch.read(buf, pos + buf.position()) >= 0) {
                        // fill the chunk
                    }
                    buf.flip();
                    boolean toEnd = pos + buf.limit() >= limit; // nothing committed after this chunk
                    int at = 0;
                    while (at < buf.limit() && out.size() < max) {
                        Codec.Decoded d = Codec.decode(buf, at, names);
                        if (d instanceof Codec.Short && !toEnd) break; // the rest is in the next chunk
                        if (!(d instanceof Codec.Ok ok)) { // damaged: recovery reported it; go on after it
                            at = resync(buf, at + 1, toEnd);
                            continue;
                        }
                        if (ok.record() != null && ok.id() > upTo) {
                            beyond = true;
                            break;
                        }
                        at += ok.size();
                        if (ok.record() != null && ok.id() > afterId && (sensor == null || sensor.equals(ok.record().sensor()))) {
                            out.add(ok.record());
                        }
                    }
                    if (at == 0 && !beyond) {
                        if (want < CHUNK) {
                            want = CHUNK; // a record longer than the first guess: a chunk holds the longest there can be
                            continue;
                        }
                        break; // cannot be: a chunk holds the longest record
                    }
                    pos += at;
                }
                endSegment = s.firstId;
                endPos = pos;
            } catch (NoSuchFileException dropped) {
                continue;
            } catch (IOException e) {
                log.error("cannot read journal segment {}: {}", s.path, e.toString());
                continue;
            } finally {
                if (buf != null && buf.capacity() <= SPARE_MAX) spareBuffer.set(buf); // a whole chunk is not kept
            }
            if (out.size() >= max || beyond) break;
        }
        long reached = out.size() >= max ? out.get(out.size() - 1).id() : upTo;
        if (sender && endSegment >= 0) {
            synchronized (readLock) {
                cursors.put(sensor, new long[] {reached, endSegment, endPos});
            }
        }
        return new Journal.Batch(out, reached);
    }

    /**
     * Where a read goes on after a damaged record before {@code from}: the next intact record, or
     * (unless the chunk reaches the end of what is committed) the next one the chunk cuts short,
     * where the next chunk then starts; past the chunk when there is neither.
     */
    private static int resync(ByteBuffer buf, int from, boolean toEnd) {
        for (int p = from; p + 4 <= buf.limit(); p++) {
            if (buf.getInt(p) != Codec.MAGIC) continue;
            Codec.Decoded d = Codec.decode(buf, p);
            if (d instanceof Codec.Ok || (d instanceof Codec.Short && !toEnd)) return p;
        }
        return toEnd ? buf.limit() : Math.max(from, buf.limit() - 3); // a magic may begin in the last three bytes
    }

}
