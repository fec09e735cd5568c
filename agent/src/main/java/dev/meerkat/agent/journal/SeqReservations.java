package dev.meerkat.agent.journal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each sensor's {@code seq} reserved ahead of use, in a small checksummed, fsynced file of its own
 * ({@code journal/seqs}), so that no {@code seq} is handed out twice even when the journal's
 * records are lost (SPEC §8): before a sensor's {@code seq} passes its reservation, the next
 * {@link #BLOCK} are reserved and the file is written. At a sensor's rate of one reading a second
 * that is one small write every quarter of an hour. After a clean recovery the journal's own last
 * {@code seq} is used (no gap); after a recovery that lost records, each sensor goes on past its
 * reservation, and the gap is reported. Guarded by the journal's lock.
 */
final class SeqReservations {
    private static final Logger log = LoggerFactory.getLogger(SeqReservations.class);
    /** How many seqs one write reserves. */
    static final long BLOCK = 1000;

    private final Path file;
    private final Map<String, Long> reserved = new TreeMap<>();
    private boolean readable = true;
    private boolean failing;

    private SeqReservations(Path file) {
        this.file = file;
    }

    /** Reads {@code file}; a damaged one is reported in {@code problems} and starts empty. */
    static SeqReservations open(Path file, List<String> problems) {
        SeqReservations r = new SeqReservations(file);
        try {
            CheckedFile.read(file).ifPresent(read -> {
                for (String line : read.lines()) {
                    int tab = line.indexOf('\t');
                    if (tab > 0) r.reserved.put(line.substring(tab + 1), Long.parseLong(line.substring(0, tab)));
                }
            });
        } catch (IOException | RuntimeException e) {
            r.readable = false;
            problems.add(file.getFileName() + ": cannot be read (" + e.getMessage() + "); a seq may repeat if the journal lost records too");
        }
        return r;
    }

    /** Whether the file was read (absent counts as read: nothing was reserved). */
    boolean readable() {
        return readable;
    }

    /** Every sensor's reservation: no seq above it was handed out. */
    Map<String, Long> all() {
        return Map.copyOf(reserved);
    }

    /** Makes sure {@code seq} of {@code sensor} is reserved before it is handed out: writes the file when it is not. */
    void cover(String sensor, long seq) {
        Long have = reserved.get(sensor);
        if (have != null && seq <= have) return;
        if (sensor.indexOf('\n') >= 0 || sensor.indexOf('\r') >= 0 || sensor.indexOf('\t') >= 0) return; // not a valid id
        reserved.put(sensor, seq + BLOCK - 1);
        StringBuilder body = new StringBuilder();
        reserved.forEach((s, q) -> body.append(q).append('\t').append(s).append('\n'));
        try {
            CheckedFile.write(file, body.toString(), true);
            failing = false;
        } catch (IOException e) {
            // The seq goes out all the same (the reading is worth more); the promise is weaker until a
            // write works, which the next seq tries again.
            if (have == null) reserved.remove(sensor);
            else reserved.put(sensor, have);
            if (!failing) log.error("cannot reserve seqs in {}: {}; after a crash that also loses the journal's records a seq could repeat", file, e.toString());
            failing = true;
        }
    }
}
