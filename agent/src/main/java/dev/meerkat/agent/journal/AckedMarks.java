package dev.meerkat.agent.journal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal's {@code acked} file: the watermark; a line {@code MARK<TAB>SENSOR} for each sensor
 * acknowledged beyond it; the drop counts ({@code D<TAB>N<TAB>REASON<TAB>SENSOR}) and the time of
 * the last drop ({@code L<TAB>MILLIS}), so that they survive restarts; the damage already counted
 * ({@code R<TAB>OFFSET<TAB>SEGMENT}); and a checksum ({@link CheckedFile}).
 */
record AckedMarks(long watermark, Map<String, Long> marks, Map<String, Map<String, Long>> dropped, long lastDropAt,
                  Map<String, Set<Long>> counted) {
    private static final Logger log = LoggerFactory.getLogger(Journal.class);
    static final AckedMarks NONE = new AckedMarks(0, Map.of(), Map.of(), 0, Map.of());

    /** What {@code file} holds; {@link #NONE} when there is none, or (with a problem added) when it cannot be trusted. */
    static AckedMarks read(Path file, List<String> problems) {
        try {
            var read = CheckedFile.read(file);
            if (read.isEmpty()) return NONE;
            List<String> lines = read.get().lines();
            long watermark = Long.parseLong(lines.isEmpty() ? "0" : lines.get(0).strip());
            Map<String, Long> marks = new HashMap<>();
            Map<String, Map<String, Long>> drops = new TreeMap<>();
            Map<String, Set<Long>> counted = new TreeMap<>();
            long lastDrop = 0;
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.split("\t", 4);
                if (f[0].equals("D") && f.length == 4) {
                    drops.computeIfAbsent(f[3], k -> new TreeMap<>()).put(f[2], Long.parseLong(f[1]));
                } else if (f[0].equals("L") && f.length == 2) {
                    lastDrop = Long.parseLong(f[1]);
                } else if (f[0].equals("R") && f.length == 3) {
                    counted.computeIfAbsent(f[2], k -> new TreeSet<>()).add(Long.parseLong(f[1]));
                } else if (f.length == 2) {
                    marks.put(f[1], Long.parseLong(f[0]));
                }
            }
            return new AckedMarks(watermark, marks, drops, lastDrop, counted);
        } catch (IOException | RuntimeException e) {
            problems.add("acked: ignored (" + e.getMessage() + "); readings not known to be acknowledged are sent again");
            log.warn("ignoring the journal's acked file: {}", e.toString());
            return NONE;
        }
    }

    /** The file's lines (without the checksum, which {@link CheckedFile} adds). */
    String text() {
        StringBuilder text = new StringBuilder();
        text.append(watermark).append('\n');
        marks.forEach((sensor, mark) -> {
            // A name that would break the line is left out: its readings count from the watermark (sent again, not lost).
            if (plain(sensor)) text.append(mark).append('\t').append(sensor).append('\n');
        });
        dropped.forEach((sensor, byReason) -> byReason.forEach((reason, n) -> {
            if (plain(sensor) && plain(reason)) text.append("D\t").append(n).append('\t').append(reason).append('\t').append(sensor).append('\n');
        }));
        if (lastDropAt > 0) text.append("L\t").append(lastDropAt).append('\n');
        counted.forEach((segment, offsets) -> offsets.forEach(o -> text.append("R\t").append(o).append('\t').append(segment).append('\n')));
        return text.toString();
    }

    /** A name that fits in a line field: no line break, no tab. */
    static boolean plain(String s) {
        return s.indexOf('\n') < 0 && s.indexOf('\r') < 0 && s.indexOf('\t') < 0;
    }
}
