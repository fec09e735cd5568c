package dev.meerkat.agent.journal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The on-disk record format. A record is a 20-byte header and a body:
 * <pre>
 *   magic  u32  0x4D4B5231 ("MKR1")
 *   length u32  body bytes
 *   crc    u32  CRC-32C of id and body
 *   id     u64  (inside the checksum)
 *   body:  type u8, then for a reading (type 1): sensor (u16 length + UTF-8), seq u64, ts u64 (epoch ms),
 *          qos u8, topic (u16 length + UTF-8), payload (u32 length + bytes);
 *          for a checkpoint (type 2): count u32, then per sensor: sensor (u16 + UTF-8), last seq u64
 * </pre>
 * The magic lets recovery find the next intact record after a damaged one.
 */
final class Codec {
    static final int MAGIC = 0x4D4B5231;
    static final int HEADER = 4 + 4 + 4 + 8;
    static final int MAX_BODY = 1 << 20;
    static final byte READING = 1, CHECKPOINT = 2;

    private Codec() {}

    /** A reading's record without its id and checksum, which {@link #seal(ByteBuffer, long)} adds: the costly part, done before the id is known. */
    static ByteBuffer unsealed(String sensorName, long seq, long tsMillis, String topicName, int qos, byte[] payload) {
        byte[] sensor = utf(sensorName), topic = utf(topicName);
        int body = 1 + 2 + sensor.length + 8 + 8 + 1 + 2 + topic.length + 4 + payload.length;
        ByteBuffer b = ByteBuffer.allocate(HEADER + body);
        b.putInt(MAGIC).putInt(body).putInt(0).putLong(0);
        b.put(READING).putShort((short) sensor.length).put(sensor).putLong(seq).putLong(tsMillis)
                .put((byte) qos).putShort((short) topic.length).put(topic).putInt(payload.length).put(payload);
        return b;
    }

    /** Puts {@code id} and the checksum in a record from {@link #unsealed}; ready to write. */
    static ByteBuffer seal(ByteBuffer unsealed, long id) {
        unsealed.putLong(12, id);
        return seal(unsealed);
    }

    static ByteBuffer encodeCheckpoint(long id, Map<String, Long> lastSeq) {
        int body = 1 + 4;
        for (String s : lastSeq.keySet()) body += 2 + utf(s).length + 8;
        ByteBuffer b = ByteBuffer.allocate(HEADER + body);
        b.putInt(MAGIC).putInt(body).putInt(0).putLong(id);
        b.put(CHECKPOINT).putInt(lastSeq.size());
        lastSeq.forEach((s, seq) -> {
            byte[] u = utf(s);
            b.putShort((short) u.length).put(u).putLong(seq);
        });
        return seal(b);
    }

    private static ByteBuffer seal(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 12, b.capacity() - 12);
        b.putInt(8, (int) crc.getValue());
        b.flip();
        return b;
    }

    /** What one decode attempt at a position found. */
    sealed interface Decoded permits Ok, Bad, Short {}

    /** An intact record: a reading, or a checkpoint ({@code record} null) with its sequence numbers. */
    record Ok(long id, Record record, Map<String, Long> checkpoint, int size) implements Decoded {}

    /** Not a record here (wrong magic, impossible length, checksum mismatch, unreadable body). */
    record Bad(String why) implements Decoded {}

    /** The bytes end before the record does. */
    record Short() implements Decoded {}

    /** Decodes the record at {@code at} in {@code buf} (limit = end of the data). */
    static Decoded decode(ByteBuffer buf, int at) {
        return decode(buf, at, null);
    }

    /**
     * The sensor and topic of the last record a reader decoded: the next record of the same sensor
     * takes the same strings instead of new ones (a reader decodes thousands of one sensor's in a row).
     */
    static final class Names {
        private final Name sensor = new Name(), topic = new Name();
    }

    /** One string and its bytes, the last read in its place. */
    private static final class Name {
        private byte[] bytes = new byte[0];
        private String text = "";

        /** The {@code n} bytes at {@code b}'s position as a string, this one when they are the same bytes. */
        String read(ByteBuffer b, int n) {
            int p = b.position();
            boolean same = n == bytes.length && p + n <= b.limit();
            for (int i = 0; same && i < n; i++) same = b.get(p + i) == bytes[i];
            if (same) {
                b.position(p + n);
                return text;
            }
            text = str(b, n);
            bytes = utf(text);
            return text;
        }
    }

    /** The same, with {@code names} (may be null) to reuse a sensor's and a topic's strings. */
    static Decoded decode(ByteBuffer buf, int at, Names names) {
        int left = buf.limit() - at;
        if (left < HEADER) return left >= 4 && buf.getInt(at) != MAGIC ? new Bad("no record magic") : new Short();
        if (buf.getInt(at) != MAGIC) return new Bad("no record magic");
        int length = buf.getInt(at + 4);
        if (length < 1 || length > MAX_BODY) return new Bad("impossible length " + length);
        if (left < HEADER + length) return new Short();
        CRC32C crc = new CRC32C();
        ByteBuffer view = buf.duplicate();
        view.position(at + 12).limit(at + HEADER + length);
        crc.update(view);
        if ((int) crc.getValue() != buf.getInt(at + 8)) return new Bad("checksum mismatch");
        long id = buf.getLong(at + 12);
        ByteBuffer body = buf.duplicate();
        body.position(at + HEADER).limit(at + HEADER + length);
        try {
            byte type = body.get();
            if (type == READING) {
                String sensor = names == null ? str(body, body.getShort() & 0xffff) : names.sensor.read(body, body.getShort() & 0xffff);
                long seq = body.getLong(), ts = body.getLong();
                int qos = body.get();
                String topic = names == null ? str(body, body.getShort() & 0xffff) : names.topic.read(body, body.getShort() & 0xffff);
                byte[] payload = new byte[body.getInt()];
                body.get(payload);
                return new Ok(id, new Record(id, sensor, seq, ts, topic, qos, payload), null, HEADER + length);
            } else if (type == CHECKPOINT) {
                int n = body.getInt();
                Map<String, Long> seqs = new TreeMap<>();
                for (int i = 0; i < n; i++) seqs.put(str(body, body.getShort() & 0xffff), body.getLong());
                return new Ok(id, null, seqs, HEADER + length);
            }
            return new Bad("unknown record type " + type);
        } catch (RuntimeException e) {
            return new Bad("unreadable body: " + e);
        }
    }

    private static String str(ByteBuffer b, int n) {
        byte[] a = new byte[n];
        b.get(a);
        return new String(a, StandardCharsets.UTF_8);
    }

    private static byte[] utf(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
