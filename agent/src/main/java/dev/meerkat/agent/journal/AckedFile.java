package dev.meerkat.agent.journal;

import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal's acknowledged marks on disk ({@code acked}, written whole by {@link CheckedFile}):
 * saved by the journal's thread every 30 seconds when they changed (not fsynced: after a crash, the
 * readings acknowledged since are sent again; each save is a new file, a page and the directory's
 * metadata), and forced at a clean stop. Its state is guarded by the journal's lock.
 */
final class AckedFile {
    private static final Logger log = LoggerFactory.getLogger(Journal.class);
    /** How often the acked file is saved when the marks changed. */
    static final Duration SAVE_EVERY = Duration.ofSeconds(30);

    private final Journal j;
    private long lastSave;
    private long savedVersion = -1; // the version of the marks last saved

    AckedFile(Journal journal) {
        this.j = journal;
    }

    /** Saves the marks if they changed and the last save is {@link #SAVE_EVERY} old ({@code sync}: now, and forced). */
    void saveIfDue(long now, boolean sync) {
        long version;
        String text;
        synchronized (j.lock) {
            if (j.ledger.version == savedVersion || (!sync && now - lastSave < SAVE_EVERY.toMillis())) return;
            version = j.ledger.version;
            text = j.ledger.marks().text();
            lastSave = now;
        }
        try {
            CheckedFile.write(j.options.dir().resolve("acked"), text, sync);
            synchronized (j.lock) {
                savedVersion = version;
            }
        } catch (IOException e) {
            log.warn("cannot save the journal's acked mark: {}", e.toString());
        }
    }
}
