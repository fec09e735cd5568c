package dev.meerkat.agent.bridge;

import dev.meerkat.agent.mqtt.MqttTransport;
import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.config.Json;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Readings on their way to the broker. Each is removed only once the broker has acknowledged it
 * (QoS 1); on a failure it stays at the head and is sent again after a reconnect, so one sensor's
 * readings go out in {@code seq} order.
 *
 * <p>This is the walking skeleton's buffer: it is held in memory, bounded by a count, and dropping
 * the oldest is counted. It survives broker outages, not crashes; the durable on-disk journal is
 * the MQTT bridge's own issue and replaces the queue behind the same {@link #offer} call.
 */
public final class Outbox implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Outbox.class);

    record Pending(String topic, byte[] payload, int qos) {}

    private final MqttLink link;
    private final int capacity;
    private final Deque<Pending> queue = new ArrayDeque<>();
    private final Thread sender;
    private final AtomicLong dropped = new AtomicLong();
    private boolean inFlight;
    private volatile boolean closing;

    public Outbox(MqttTransport transport, String statusTopic, boolean retainStatus, String agentVersion,
                  int capacity, Clock clock, Runnable onConnectionChange) {
        this.link = new MqttLink(transport, new MqttLink.Target(statusTopic, retainStatus), agentVersion, clock, onConnectionChange);
        transport.onConnectionLost(() -> {
            log.warn("mqtt connection lost");
            onConnectionChange.run();
            wake();
        });
        this.capacity = capacity;
        // A platform thread: Paho blocks inside synchronized code, which would pin a virtual thread's carrier.
        this.sender = Thread.ofPlatform().name("meerkat-mqtt-sender").daemon(true).unstarted(this::run);
    }

    public void start() {
        sender.start();
    }

    public void offer(Reading r, String topic, int qos) {
        byte[] payload = Json.write(r.toJson());
        synchronized (queue) {
            if (queue.size() >= capacity) {
                queue.pollFirst();
                long n = dropped.incrementAndGet();
                if (n == 1 || n % 1000 == 0) log.warn("outbox full (capacity={}), dropped the oldest reading, dropped={}", capacity, n);
            }
            queue.addLast(new Pending(topic, payload, qos));
            queue.notifyAll();
        }
    }

    /** Moves the device's status topic (a new topic prefix): offline on the old one, online on the new. */
    public void retarget(String statusTopic, boolean retainStatus) {
        link.retarget(new MqttLink.Target(statusTopic, retainStatus));
        wake();
    }

    private void wake() {
        synchronized (queue) {
            queue.notifyAll();
        }
    }

    public boolean connected() {
        return link.isConnected();
    }

    public int depth() {
        synchronized (queue) {
            return queue.size() + (inFlight ? 1 : 0);
        }
    }

    /** Waits until everything offered so far is acknowledged, or the time is up; true when empty. */
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (queue) {
            while (!queue.isEmpty() || inFlight) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                queue.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    private void run() {
        try {
            while (!closing) {
                Pending next;
                synchronized (queue) {
                    while (!closing && queue.isEmpty() && link.settled()) queue.wait();
                    if (closing) return;
                    next = queue.peekFirst();
                    inFlight = next != null;
                }
                // Connects (with backoff) even with nothing to send, so that the status says online.
                boolean up = link.ensureConnected();
                if (next == null) continue;
                boolean sent = false;
                if (up) {
                    try {
                        link.publish(next.topic(), next.payload(), next.qos());
                        sent = true;
                    } catch (MqttTransportException e) {
                        log.warn("reading not acknowledged, will resend after reconnect: {}", e.getMessage());
                    }
                }
                synchronized (queue) {
                    if (sent) {
                        // offer() may have dropped it meanwhile; only remove the very same entry.
                        if (queue.peekFirst() == next) queue.pollFirst();
                    }
                    inFlight = false;
                    queue.notifyAll();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops sending, publishes offline and disconnects. Call {@link #flush} first to drain. */
    @Override
    public void close() {
        synchronized (queue) {
            if (closing) return;
            closing = true;
            queue.notifyAll();
        }
        // Waiting out a reconnect backoff would only delay the stop.
        if (!link.isConnected()) sender.interrupt();
        try {
            sender.join(MqttLink.ACK_TIMEOUT.toMillis() + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        link.goOffline();
        int left = depth();
        if (left > 0) log.warn("stopped with {} readings not acknowledged by the broker", left);
    }
}
