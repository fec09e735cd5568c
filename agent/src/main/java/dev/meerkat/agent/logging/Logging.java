package dev.meerkat.agent.logging;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The daemon's logging: slf4j onto java.util.logging (no extra backend jar beyond the binding), one
 * line per event on standard error, which systemd sends to the journal. Under systemd (standard
 * error is the journal: {@code $JOURNAL_STREAM} is set) each line starts with its syslog priority,
 * {@code <3>} errors, {@code <4>} warnings, {@code <6>} info, {@code <7>} debug, which journald
 * takes as the entry's priority ({@code journalctl -p warning}), and without a time stamp of its
 * own (the journal has one). Meerkat's own level follows the config's {@code logLevel}; ZooKeeper,
 * Curator and Paho are kept at warnings, and their repeated lines are throttled ({@link LogThrottle}).
 */
public final class Logging {
    private static final Logger MEERKAT = Logger.getLogger("dev.meerkat");
    /**
     * The libraries' loggers, held here: java.util.logging keeps loggers only weakly, so a level set
     * on one that nothing else holds yet (ZooKeeper's, before its first class is loaded) is lost
     * when the collector takes it, and the library then logs at the root's level.
     */
    private static final java.util.List<Logger> LIBRARIES = java.util.stream.Stream.of(
            "org.apache.zookeeper", "org.apache.curator", "org.eclipse.paho", "io.netty", "io.moquette")
            .map(Logger::getLogger).toList();

    private Logging() {}

    public static void setUp(String level) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        Handler h = new StreamHandler(System.err, System.getenv("JOURNAL_STREAM") != null);
        h.setLevel(Level.ALL);
        root.addHandler(h);
        root.setLevel(Level.WARNING);
        for (Logger library : LIBRARIES) library.setLevel(Level.WARNING);
        setLevel(level);
    }

    /**
     * The {@code <N>} prefix that gives a line written to standard error syslog priority {@code N}
     * in the journal, when standard error is the journal; empty otherwise.
     */
    public static String journalPrefix(int priority) {
        return System.getenv("JOURNAL_STREAM") != null ? "<" + priority + ">" : "";
    }

    /**
     * For the commands other than {@code run}: they print what they have to say themselves, so the
     * libraries (ZooKeeper's connection chatter) are silent below errors, and Meerkat below warnings.
     */
    public static void setUpForCommand() {
        setUp("warn");
        for (Logger library : LIBRARIES) library.setLevel(Level.SEVERE);
    }

    /** Changes Meerkat's own level at run time: {@code error}, {@code warn}, {@code info}, {@code debug}, {@code trace}. */
    public static void setLevel(String level) {
        MEERKAT.setLevel(switch (level.toLowerCase(Locale.ROOT)) {
            case "error" -> Level.SEVERE;
            case "warn" -> Level.WARNING;
            case "debug" -> Level.FINE;
            case "trace" -> Level.FINEST;
            default -> Level.INFO;
        });
    }

    /**
     * Writes each record as one line to a stream and flushes it. Not a {@code ConsoleHandler}: its
     * {@code setOutputStream} would close {@code System.err} under it.
     */
    private static final class StreamHandler extends Handler {
        private final PrintStream out;

        StreamHandler(PrintStream out, boolean journal) {
            this.out = out;
            setFormatter(new LineFormatter(journal));
        }

        private final LogThrottle throttle = new LogThrottle();

        @Override
        public void publish(LogRecord record) {
            if (!isLoggable(record)) return;
            String note = throttle.admit(record);
            if (note == null) return;
            String line = getFormatter().format(record);
            if (!note.isEmpty()) line = line.stripTrailing() + note + System.lineSeparator();
            synchronized (out) {
                out.print(line);
                out.flush();
            }
        }

        @Override
        public void flush() {
            out.flush();
        }

        @Override
        public void close() {
            out.flush();
        }
    }

    static final class LineFormatter extends Formatter {
        private static final DateTimeFormatter TS =
                DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

        private final boolean journal;

        LineFormatter(boolean journal) {
            this.journal = journal;
        }

        @Override
        public String format(LogRecord r) {
            String name = r.getLoggerName() == null ? "" : r.getLoggerName();
            int dot = name.lastIndexOf('.');
            StringBuilder sb = new StringBuilder(160);
            if (journal) {
                sb.append('<').append(priority(r.getLevel())).append('>');
            } else {
                sb.append(TS.format(Instant.ofEpochMilli(r.getMillis()))).append(' ');
            }
            sb.append(level(r.getLevel())).append(' ')
                    .append(dot >= 0 ? name.substring(dot + 1) : name).append(": ")
                    .append(formatMessage(r));
            if (r.getThrown() != null) sb.append(" (").append(r.getThrown()).append(')');
            return sb.append(System.lineSeparator()).toString();
        }

        /** The syslog priority journald reads from a {@code <N>} prefix. */
        static int priority(Level l) {
            if (l.intValue() >= Level.SEVERE.intValue()) return 3;
            if (l.intValue() >= Level.WARNING.intValue()) return 4;
            if (l.intValue() >= Level.INFO.intValue()) return 6;
            return 7;
        }

        private static String level(Level l) {
            if (l.intValue() >= Level.SEVERE.intValue()) return "ERROR";
            if (l.intValue() >= Level.WARNING.intValue()) return "WARN ";
            if (l.intValue() >= Level.INFO.intValue()) return "INFO ";
            return "DEBUG";
        }
    }
}
