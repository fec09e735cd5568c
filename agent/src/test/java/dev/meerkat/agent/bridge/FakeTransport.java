package dev.meerkat.agent.bridge;

import dev.meerkat.agent.mqtt.MqttTransport;
import dev.meerkat.agent.mqtt.MqttTransportException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An MQTT client that a test drives, behaving as Paho does at the {@link MqttTransport} interface:
 * connects (or refuses a given number of times), publishes and answers each QoS 1 message on a
 * callback thread of its own (at once, or when the test says), loses the connection on demand
 * (the pending messages are never answered on it), and records everything.
 */
final class FakeTransport implements MqttTransport {
    /** One message handed to the client; {@code done} is its answer, null until it has one. */
    static final class Sent {
        final String topic;
        final String payload;
        final int connection;
        private final Consumer<Throwable> done;

        Sent(String topic, byte[] payload, int connection, Consumer<Throwable> done) {
            this.topic = topic;
            this.payload = new String(payload, StandardCharsets.UTF_8);
            this.connection = connection;
            this.done = done;
        }
    }

    final List<Sent> readings = new CopyOnWriteArrayList<>();
    final List<String> statuses = new CopyOnWriteArrayList<>();
    final AtomicInteger connects = new AtomicInteger();
    private final ExecutorService callbacks = Executors.newSingleThreadExecutor();
    private final List<Sent> unanswered = new CopyOnWriteArrayList<>();
    private volatile boolean connected;
    private volatile boolean answering = true;
    private volatile int refusals;
    private volatile Runnable lost = () -> {};

    /** The next {@code n} connects fail, as to a broker that is down. */
    void refuse(int n) {
        refusals = n;
    }

    /** Whether QoS 1 messages are acknowledged as they come; when not, they wait for {@link #answerAll}. */
    void answering(boolean on) {
        answering = on;
    }

    /** Acknowledges every message of the current connection not yet answered. */
    void answerAll() {
        for (Sent s : unanswered) {
            if (s.connection == connects.get()) answer(s);
        }
    }

    /** The connection drops (a broker restart, a network cut): what was not answered never will be. */
    void lose() {
        connected = false;
        unanswered.clear();
        callbacks.execute(lost);
    }

    int unansweredCount() {
        return unanswered.size();
    }

    private void answer(Sent s) {
        unanswered.remove(s);
        callbacks.execute(() -> s.done.accept(null));
    }

    @Override
    public void connect(Will will, Duration timeout) throws MqttTransportException {
        if (refusals > 0) {
            refusals--;
            throw new MqttTransportException("connection refused (fake)", null);
        }
        connects.incrementAndGet();
        connected = true;
    }

    @Override
    public boolean isConnected() {
        return connected;
    }

    @Override
    public void onConnectionLost(Runnable listener) {
        lost = listener;
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, boolean retained, Duration ackTimeout) throws MqttTransportException {
        if (!connected) throw new MqttTransportException("not connected (fake)", null);
        statuses.add(new String(payload, StandardCharsets.UTF_8));
    }

    @Override
    public void publishAsync(String topic, byte[] payload, int qos, Consumer<Throwable> done) throws MqttTransportException {
        if (!connected) throw new MqttTransportException("not connected (fake)", null);
        Sent s = new Sent(topic, payload, connects.get(), done);
        readings.add(s);
        unanswered.add(s);
        if (answering) answer(s);
    }

    @Override
    public void disconnect(Duration timeout) {
        connected = false;
        unanswered.clear();
    }

    @Override
    public void close() {
        connected = false;
        callbacks.shutdownNow();
    }
}
