package dev.meerkat.agent.sparkplug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.agent.sparkplug.WriteWindow.Answer;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WriteWindowTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void aFullWindowWaitsUntilAWriteMakesRoom() throws Exception {
        WriteWindow w = new WriteWindow(2);
        long epoch = w.take(WAIT);
        w.take(WAIT);
        CompletableFuture<Long> third = CompletableFuture.supplyAsync(() -> {
            try {
                return w.take(WAIT);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertEquals(2, w.inFlight());
        assertTrue(!third.isDone());
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
        CompletableFuture<Long> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return w.take(WAIT);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        w.close();
        assertEquals(-1L, waiting.get(5, TimeUnit.SECONDS));
    }
}
