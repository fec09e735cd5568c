package dev.meerkat.agent.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.agent.journal.Journal;
import dev.meerkat.config.Json;
import dev.meerkat.time.ManualClock;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outbox against a client the test drives ({@link FakeTransport}), without a broker: every
 * reading published and acknowledged in each sensor's seq order, what was in flight when the
 * connection broke sent again after the reconnect, a refused connect tried again, and the
 * acknowledgement timeout, on a clock of the test's.
 */
class OutboxTest {
    @TempDir
    Path dir;

    final FakeTransport transport = new FakeTransport();
    final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    Journal journal;
    Outbox outbox;

    /** The wall clock of the readings' sample times and of batching's maxDelay. */
    final ManualClock wall = new ManualClock(Instant.now());

    void start() {
        journal = Journal.open(Journal.Options.of(dir, 16 << 20, Duration.ofDays(1)), Clock.systemUTC());
        outbox = new Outbox(transport, journal, "p/f/d/status", true, "test", wall, nanos::get, () -> {});
        outbox.start();
    }

    @AfterEach
    void stop() {
        if (outbox != null) outbox.close();
        if (journal != null) journal.close();
        transport.close();
    }

    void offer(String sensor, int n) {
        for (int i = 0; i < n; i++) {
            long seq = journal.nextSeq(sensor);
            outbox.offer(new Reading("d", sensor, seq, wall.instant(), Map.of("v", 1.0), Map.of("v", "1"),
                    OptionalLong.empty()), "p/f/d/sensors/" + sensor, 1);
        }
    }

    static void await(String what, BooleanSupplier done) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("not within 10 s: " + what);
            Thread.sleep(2);
        }
    }

    /** Each sensor's seqs in the order they were handed to the client, from {@code from} on. */
    List<Long> seqs(String sensor, int from) throws Exception {
        List<Long> out = new ArrayList<>();
        for (FakeTransport.Sent s : transport.readings.subList(from, transport.readings.size())) {
            if (!s.topic.endsWith("/" + sensor)) continue;
            var json = Json.tree(s.payload.getBytes());
            if (json.isArray()) json.forEach(r -> out.add(r.path("seq").asLong())); // a batch
            else out.add(json.path("seq").asLong());
        }
        return out;
    }

    static List<Long> range(long from, long to) {
        List<Long> l = new ArrayList<>();
        for (long i = from; i <= to; i++) l.add(i);
        return l;
    }

    @Test
    void everyReadingIsPublishedInItsSensorsOrderAndLeavesTheJournalWhenAcknowledged() throws Exception {
        start();
        offer("a", 50);
        offer("b", 30);
        offer("a", 50);
        await("all acknowledged", () -> journal.depth() == 0 && outbox.acknowledged().total() == 130);
        assertEquals(range(1, 100), seqs("a", 0));
        assertEquals(range(1, 30), seqs("b", 0));
        assertEquals(130, transport.readings.size(), "no reading twice on a connection that stayed up");
        assertEquals(java.util.Map.of("a", 100L, "b", 30L), outbox.acknowledged().bySensor(), "acknowledged, per sensor");
        assertEquals(1, transport.connects.get());
        assertTrue(transport.statuses.get(0).contains("\"state\":\"online\""), transport.statuses.toString());
    }

    @Test
    void whatWasInFlightWhenTheConnectionBrokeIsSentAgainInOrder() throws Exception {
        transport.answering(false);
        start();
        offer("a", 10);
        offer("b", 5);
        await("15 in flight", () -> transport.readings.size() == 15);
        transport.lose();
        await("sent again on a new connection", () -> transport.connects.get() == 2 && transport.readings.size() == 30);
        assertEquals(range(1, 10), seqs("a", 15));
        assertEquals(range(1, 5), seqs("b", 15));
        assertEquals(15, outbox.depth(), "nothing acknowledged yet");
        transport.answerAll();
        await("acknowledged on the new connection", () -> journal.depth() == 0);
        assertEquals(30, transport.readings.size());
    }

    @Test
    void aRefusedConnectIsTriedAgainAndNothingIsLost() throws Exception {
        transport.refuse(2);
        start();
        offer("a", 20);
        await("connected on the third try and delivered", () -> journal.depth() == 0);
        assertEquals(1, transport.connects.get());
        assertEquals(range(1, 20), seqs("a", 0));
    }

    @Test
    void noAcknowledgementWithinTheTimeoutDropsTheConnectionAndSendsAgain() throws Exception {
        transport.answering(false);
        start();
        offer("a", 3);
        await("3 in flight", () -> transport.readings.size() == 3);
        long timeout = MqttLink.ACK_TIMEOUT.toNanos();
        nanos.addAndGet(timeout - 1_000_000); // 1 ms short of the timeout
        int statuses = transport.statuses.size();
        outbox.announce(Map.of()); // the sender goes round (a status to publish) and looks at its deadlines
        await("the status published", () -> transport.statuses.size() > statuses);
        assertEquals(1, transport.connects.get(), "dropped before its time");
        assertTrue(transport.isConnected());
        nanos.addAndGet(2_000_000); // 1 ms past it
        outbox.announce(Map.of());
        await("a new connection, the readings sent again", () -> transport.connects.get() == 2 && transport.readings.size() == 6);
        assertEquals(range(1, 3), seqs("a", 3));
        transport.answerAll();
        await("acknowledged", () -> journal.depth() == 0);
    }

    @Test
    void aShortBatchWaitsForItsMaxDelayThenGoesAsOneMessage() throws Exception {
        start();
        outbox.batching(10, Duration.ofSeconds(1));
        offer("a", 3);
        await("committed", () -> journal.committedId() >= 3);
        int statuses = transport.statuses.size();
        outbox.announce(Map.of()); // a round after the commit: the batch is short and young, so it waits
        await("the status published", () -> transport.statuses.size() > statuses);
        assertEquals(0, transport.readings.size(), "a short batch went before its maxDelay");
        wall.advance(Duration.ofSeconds(1)); // the oldest reading is maxDelay old now
        outbox.announce(Map.of());
        await("the batch sent", () -> transport.readings.size() == 1 && journal.depth() == 0);
        assertEquals(range(1, 3), seqs("a", 0));
    }
}
