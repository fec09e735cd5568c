package dev.meerkat.agent.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class LoggingTest {
    private static LogRecord record(Level level, String msg) {
        LogRecord r = new LogRecord(level, msg);
        r.setLoggerName("dev.meerkat.agent.Agent");
        return r;
    }

    @Test
    void underTheJournalEachLineStartsWithItsPriority() {
        Logging.LineFormatter journal = new Logging.LineFormatter(true);
        assertEquals("<3>ERROR Agent: down" + System.lineSeparator(), journal.format(record(Level.SEVERE, "down")));
        assertEquals("<4>WARN  Agent: slow" + System.lineSeparator(), journal.format(record(Level.WARNING, "slow")));
        assertEquals("<6>INFO  Agent: up" + System.lineSeparator(), journal.format(record(Level.INFO, "up")));
        assertEquals("<7>DEBUG Agent: detail" + System.lineSeparator(), journal.format(record(Level.FINE, "detail")));
    }

    @Test
    void elsewhereLinesCarryTheirTime() {
        String line = new Logging.LineFormatter(false).format(record(Level.WARNING, "slow"));
        assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z WARN  Agent: slow\\R"), line);
    }

    @Test
    void theLibrariesLevelsOutliveTheCollector() throws Exception {
        try {
            Logging.setUpForCommand();
            // java.util.logging holds loggers weakly: a level set on a logger nobody else holds is
            // lost at the next collection. (The doctor's JSON once got ZooKeeper's warnings mixed in.)
            for (int i = 0; i < 5; i++) {
                System.gc();
                Thread.sleep(20);
            }
            Logger cnxn = Logger.getLogger("org.apache.zookeeper.ClientCnxn" + System.nanoTime());
            assertFalse(cnxn.isLoggable(Level.WARNING), "a ZooKeeper logger made after a collection logs warnings");
            assertTrue(cnxn.isLoggable(Level.SEVERE));
        } finally {
            LogManager.getLogManager().readConfiguration(); // the JVM's defaults again, for the other tests
        }
    }
}
