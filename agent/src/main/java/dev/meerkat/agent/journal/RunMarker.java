package dev.meerkat.agent.journal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal's {@code run} file, fsynced: the boot this run of the journal started in, the
 * longest sync window it used, and whether it stopped cleanly. With a window, readings are sent
 * before they are on the card; the page cache keeps them through a crash of the agent, not through
 * a power cut. So a run that did not stop, with a window, in an earlier boot than this one (a power
 * cut, a kernel crash, a reset) may have sent readings whose records are gone: each sensor's
 * {@code seq} then goes on past its reservation ({@link SeqReservations}), never reusing one.
 */
record RunMarker(String boot, long windowMillis, boolean stopped) {
    /** This boot's id ({@code /proc/sys/kernel/random/boot_id}); "unknown" where there is none. */
    static String currentBoot() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The file's marker; null when there is none (a journal of an older version, or a new one) or it cannot be read. */
    static RunMarker read(Path file, List<String> problems) {
        try {
            var read = CheckedFile.read(file);
            if (read.isEmpty()) return null;
            String boot = null;
            long window = 0;
            boolean stopped = false;
            for (String line : read.get().lines()) {
                String[] f = line.split("\t", 2);
                if (f.length < 2) continue;
                switch (f[0]) {
                    case "boot" -> boot = f[1];
                    case "windowMillis" -> window = Long.parseLong(f[1]);
                    case "stopped" -> stopped = Boolean.parseBoolean(f[1]);
                    default -> { } // a later version's
                }
            }
            return boot == null ? null : new RunMarker(boot, window, stopped);
        } catch (IOException | RuntimeException e) {
            problems.add(file.getFileName() + ": cannot be read (" + e.getMessage() + "); taken as a run that may have lost readings");
            return new RunMarker("unknown", Long.MAX_VALUE, false);
        }
    }

    /** Whether the run it describes may have sent readings that a power cut then took from the card. */
    boolean mayHaveLostSent(String thisBoot) {
        return !stopped && windowMillis > 0 && !boot.equals(thisBoot);
    }

    void write(Path file) throws IOException {
        CheckedFile.write(file, "boot\t" + boot + "\nwindowMillis\t" + windowMillis + "\nstopped\t" + stopped + "\n", true);
    }

    /** This run's run file: what it last wrote, so that the window it records only grows. Guarded by the journal's lock. */
    static final class File {
        private static final Logger log = LoggerFactory.getLogger(Journal.class);
        private final Path path;
        private final String boot;
        private RunMarker written;

        File(Path path, String boot) {
            this.path = path;
            this.boot = boot;
        }

        /** The longest window this run's file records. */
        long window() {
            return written == null ? 0 : written.windowMillis();
        }

        /** Writes this boot, the longest window so far and whether the run stopped; false if it cannot. */
        boolean write(long windowMillis, boolean stopped) {
            RunMarker m = new RunMarker(boot, Math.max(windowMillis, window()), stopped);
            try {
                m.write(path);
                written = m;
                return true;
            } catch (IOException e) {
                log.warn("cannot write the journal's run file: {}; every reading is forced to the card before it is sent until it can",
                        e.toString());
                return false;
            }
        }
    }
}
