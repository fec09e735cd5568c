package dev.meerkat.agent.sparkplug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.agent.sparkplug.WriteWindow.Answer;
import dev.meerkat.testing.Await;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WriteWindowTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** Takes room on a thread of its own; the test sees it waiting before it answers. */
    private static Thread taker(WriteWindow w, CompletableFuture<Long> took) {
        return Thread.ofPlatform().start(() -> {
            try {
                took.complete(w.take(WAIT));
            } catch (Exception e) {
                took.completeExceptionally(e);
            }
        });
    }

    private static void awaitWaiting(Thread t) {
        Await.until(Duration.ofSeconds(5), "the sender waiting for room", () -> t.getState() == Thread.State.TIMED_WAITING);
    }

    @Test
    void aFullWindowWaitsUntilAWriteMakesRoom() throws Exception {
        WriteWindow w = new WriteWindow(2);
        long epoch = w.take(WAIT);
        w.take(WAIT);
        CompletableFuture<Long> third = new CompletableFuture<>();
        awaitWaiting(taker(w, third));
        assertEquals(2, w.inFlight());
        assertFalse(third.isDone());
        assertEquals(Answer.COUNTED, w.written(epoch, null));
        assertEquals(epoch, third.get(5, TimeUnit.SECONDS));
        assertEquals(2, w.inFlight());
    }

    @Test
    void afterAFailedWriteNothingOfThatConnectionCountsAndTheNextStartsAfresh() throws Exception {
        WriteWindow w = new WriteWindow(10);
        long first = w.take(WAIT);
        w.take(WAIT);
        w.take(WAIT);
        assertEquals(Answer.COUNTED, w.written(first, null));
        assertEquals(Answer.BROKE, w.written(first, new IOException("connection lost")));
        assertEquals(Answer.IGNORED, w.written(first, null), "written after the one that failed: the journal's mark would pass it");
        assertTrue(w.broken());
        assertThrows(MqttTransportException.class, () -> w.take(WAIT));

        w.reset();
        long second = w.take(WAIT);
        assertTrue(second > first);
        assertEquals(Answer.IGNORED, w.written(first, null), "an answer of the connection before");
        assertEquals(1, w.inFlight());
        assertEquals(Answer.COUNTED, w.written(second, null));
    }

    @Test
    void closingLetsASenderWaitingForRoomGoOn() throws Exception {
        WriteWindow w = new WriteWindow(1);
        w.take(WAIT);
        CompletableFuture<Long> waiting = new CompletableFuture<>();
        awaitWaiting(taker(w, waiting));
        w.close();
        assertEquals(-1L, waiting.get(5, TimeUnit.SECONDS));
    }
}
