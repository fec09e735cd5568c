package dev.meerkat.agent.bridge;

import dev.meerkat.agent.journal.Journal;
import dev.meerkat.agent.journal.Record;
import java.util.ArrayList;
import java.util.List;

/** The sender's rounds: which lanes send how many readings, read from the journal. Sender thread only. */
final class Turns {
    /** Reads up to {@code max} committed readings of {@code sensor} after {@code afterId} (the journal's). */
    @FunctionalInterface
    interface Reader {
        Journal.Batch read(String sensor, long afterId, int max);
    }

    private final Reader reader;
    private int turn;

    Turns(Reader reader) {
        this.reader = reader;
    }

    /** What one lane sends in one round. */
    static final class Turn {
        final Lane lane;
        Journal.Batch batch;
        List<Outbox.Message> messages;

        Turn(Lane lane, Journal.Batch batch) {
            this.lane = lane;
            this.batch = batch;
        }
    }


    /**
     * Fair shares of the window's {@code room} among the lanes with readings to send: each gets an
     * equal share, starting from a different lane each round, and what some leave over goes to the
     * others. So a sensor with a long backlog cannot hold back one with a short backlog or none:
     * every sensor's readings go at once at least 1/N of the rate (N the sensors with readings
     * waiting), its backlog first (SPEC §8: each sensor's readings in seq order).
     */
    List<Turn> take(List<Lane> work, int room) {
        List<Turn> turns = new ArrayList<>();
        int share = Math.max(1, room / work.size()), left = room, start = Math.floorMod(turn++, work.size());
        for (int i = 0; i < work.size() && left > 0; i++) {
            Lane lane = work.get((start + i) % work.size());
            Journal.Batch b = reader.read(lane.sensor, lane.after, Math.min(share, left));
            turns.add(new Turn(lane, b));
            left -= b.records().size();
        }
        for (Turn t : turns) {
            if (left <= 0) break;
            if (t.batch.records().size() < share) continue; // it had no more
            Journal.Batch more = reader.read(t.lane.sensor, t.batch.upTo(), left);
            if (more.records().isEmpty()) continue;
            List<Record> all = new ArrayList<>(t.batch.records());
            all.addAll(more.records());
            t.batch = new Journal.Batch(all, more.upTo());
            left -= more.records().size();
        }
        return turns;
    }
}
