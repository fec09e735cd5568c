package dev.meerkat.agent.bridge;

import dev.meerkat.agent.journal.Journal;
import dev.meerkat.agent.journal.Record;
import dev.meerkat.agent.mqtt.MqttTransport;
import dev.meerkat.agent.mqtt.MqttTransportException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MQTT bridge: every reading goes into the {@link Journal} first; one sender thread reads the
 * committed readings in journal order and publishes them with up to {@link #WINDOW} awaiting their
 * acknowledgement; the journal lets a reading go once the broker has acknowledged it and every
 * reading before it.
 *
 * <ul>
 *   <li>A new connection sends again everything after the acknowledged mark, in order: the only
 *       duplicates are readings that were in flight when the connection broke.
 *   <li>Half-open connections: besides MQTT's keep-alive, a reading in flight for longer than the
 *       acknowledgement timeout ({@link MqttLink#ACK_TIMEOUT}) drops the connection and reconnects.
 *   <li>Paho's own persistence, offline buffer and automatic reconnect are not used: the journal is
 *       the buffer and this thread the supervisor.
 * </ul>
 */
public final class Outbox implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Outbox.class);
    /** Readings awaiting their acknowledgement at most (Paho allows 1000 in flight; see PahoTransport). */
    static final int WINDOW = 500;

    private final MqttLink link;
    private final MqttTransport transport;
    private final Journal journal;
    private final Thread sender;
    private final Object monitor = new Object();
    // Guarded by monitor:
    private final TreeMap<Long, Long> inFlight = new TreeMap<>(); // id -> nanoTime sent
    private long cursor;
    private long epoch;
    private boolean broken;
    private final AtomicLong sent = new AtomicLong(), acknowledged = new AtomicLong();
    private volatile boolean closing;
    private final java.util.concurrent.atomic.AtomicReference<Map<String, Object>> announce = new java.util.concurrent.atomic.AtomicReference<>();
    private volatile int batchMessages = 1;
    private volatile Duration batchDelay = Duration.ZERO;
    private final Clock clock;

    public Outbox(MqttTransport transport, Journal journal, String statusTopic, boolean retainStatus, String agentVersion,
                  Clock clock, Runnable onConnectionChange) {
        this.transport = transport;
        this.journal = journal;
        this.clock = clock;
        this.link = new MqttLink(transport, new MqttLink.Target(statusTopic, retainStatus), agentVersion, clock, onConnectionChange);
        transport.onConnectionLost(() -> {
            log.warn("mqtt connection lost");
            onConnectionChange.run();
            synchronized (monitor) {
                broken = true;
                monitor.notifyAll();
            }
        });
        // A platform thread: Paho blocks inside synchronized code, which would pin a virtual thread's carrier.
        this.sender = Thread.ofPlatform().name("meerkat-mqtt-sender").daemon(true).unstarted(this::run);
    }

    public void start() {
        sender.start();
    }

    /** Puts a reading in the journal; it goes to the broker once committed. Never waits for the disk or the broker. */
    public void offer(Reading r, String topic, int qos) {
        journal.append(r.sensor(), r.seq(), r.ts().toEpochMilli(), topic, qos, r.payload());
    }

    /** Moves the device's status topic (a new topic prefix): offline on the old one, online on the new. */
    public void retarget(String statusTopic, boolean retainStatus) {
        link.retarget(new MqttLink.Target(statusTopic, retainStatus));
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }

    /** The delivery accounting for the retained status topic: published by the sender thread soon. */
    public void announce(Map<String, Object> delivery) {
        announce.set(delivery);
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }

    public boolean connected() {
        return link.isConnected();
    }

    /** Readings not yet acknowledged. */
    public long depth() {
        return journal.depth();
    }

    public long sent() {
        return sent.get();
    }

    public long acknowledged() {
        return acknowledged.get();
    }

    /** Waits until everything offered so far is acknowledged, or the time is up; true when all is. */
    public boolean flush(Duration timeout) throws InterruptedException {
        return journal.awaitAcknowledged(timeout);
    }

    /**
     * The sender loop went round within {@code stale}: it is not wedged. One round is at most a
     * connect backoff (30 s) and a connect (10 s), or one publish window.
     */
    public boolean loopAlive(java.time.Duration stale) {
        if (sender.getState() == Thread.State.NEW) return true; // made, not started yet
        return !sender.isAlive() ? closing : System.nanoTime() - loopAt < stale.toNanos();
    }

    private volatile long loopAt = System.nanoTime();

    private void run() {
        long seenConnects = -1;
        try {
            while (!closing) {
                loopAt = System.nanoTime();
                // Connects (with backoff) even with nothing to send, so that the status says online.
                if (!link.ensureConnected()) continue;
                Map<String, Object> news = announce.getAndSet(null);
                if (news != null) {
                    try {
                        link.delivery(news);
                    } catch (MqttTransportException ex) {
                        announce.compareAndSet(null, news); // again after the reconnect
                        log.warn("could not publish the status: {}", ex.getMessage());
                    }
                }
                long e;
                boolean drop;
                synchronized (monitor) {
                    if (broken || link.connects() != seenConnects) {
                        // A new connection: everything not acknowledged goes again, in order.
                        seenConnects = link.connects();
                        broken = false;
                        inFlight.clear();
                        cursor = journal.ackedId();
                        epoch++;
                    }
                    e = epoch;
                    if (!inFlight.isEmpty() && System.nanoTime() - inFlight.firstEntry().getValue() > MqttLink.ACK_TIMEOUT.toNanos()) {
                        log.warn("no acknowledgement for {}ms: the connection is taken as dead", MqttLink.ACK_TIMEOUT.toMillis());
                        broken = true;
                    }
                    drop = broken;
                    if (!drop && inFlight.size() >= WINDOW) {
                        monitor.wait(50);
                        continue;
                    }
                }
                if (drop) {
                    link.drop(); // outside the monitor: acknowledgement callbacks take it
                    continue;
                }
                int room;
                long from;
                synchronized (monitor) {
                    room = WINDOW - inFlight.size();
                    from = cursor;
                }
                Journal.Batch batch = journal.read(from, room, Duration.ofMillis(100));
                List<Message> messages = messages(batch.records());
                if (messages == null) { // a batch still filling: wait for more, at most its maxDelay
                    synchronized (monitor) {
                        monitor.wait(5);
                    }
                    continue;
                }
                long now = System.nanoTime();
                synchronized (monitor) {
                    if (epoch != e || broken) continue;
                    // All of them in flight before any is sent, so the mark never passes one not yet sent.
                    for (Message m : messages) for (Record r : m.records()) inFlight.put(r.id(), now);
                }
                for (Message m : messages) {
                    try {
                        long[] ids = new long[m.records().size()];
                        for (int i = 0; i < ids.length; i++) ids[i] = m.records().get(i).id();
                        transport.publishAsync(m.topic(), m.payload(), m.qos(), failure -> done(e, ids, failure));
                        sent.addAndGet(ids.length);
                    } catch (MqttTransportException ex) {
                        log.warn("reading not handed to the client, will resend after reconnect: {}", ex.getMessage());
                        synchronized (monitor) {
                            broken = true;
                        }
                        break;
                    }
                }
                synchronized (monitor) {
                    // Past everything just sent, and past ids without a reading (upTo).
                    if (epoch == e && !broken && batch.upTo() > cursor) cursor = batch.upTo();
                    markAcknowledged();
                }
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /** One MQTT message: a reading, or with batching a JSON array of readings of one sensor. */
    record Message(String topic, int qos, List<Record> records, byte[] payload) {}

    /**
     * The messages for {@code records} (in journal order): one per reading, or with batching up to
     * {@code maxMessages} readings of one topic in a JSON array, each sensor's in seq order. Null
     * when batching asks to wait: every batch is short and its oldest reading younger than
     * {@code maxDelay}.
     */
    List<Message> messages(List<Record> records) {
        int max = batchMessages;
        List<Message> out = new ArrayList<>();
        if (max <= 1) {
            for (Record r : records) out.add(new Message(r.topic(), r.qos(), List.of(r), r.payload()));
            return out;
        }
        Map<String, List<Record>> byTopic = new LinkedHashMap<>();
        long oldest = Long.MAX_VALUE;
        for (Record r : records) {
            byTopic.computeIfAbsent(r.topic(), t -> new ArrayList<>()).add(r);
            oldest = Math.min(oldest, r.tsMillis());
        }
        boolean allShort = byTopic.values().stream().allMatch(l -> l.size() < max);
        if (!records.isEmpty() && allShort && clock.millis() - oldest < batchDelay.toMillis()) return null;
        byTopic.forEach((topic, list) -> {
            for (int i = 0; i < list.size(); i += max) {
                List<Record> part = list.subList(i, Math.min(list.size(), i + max));
                java.io.ByteArrayOutputStream json = new java.io.ByteArrayOutputStream();
                json.write('[');
                for (int k = 0; k < part.size(); k++) {
                    if (k > 0) json.write(',');
                    json.writeBytes(part.get(k).payload());
                }
                json.write(']');
                out.add(new Message(topic, part.get(0).qos(), List.copyOf(part), json.toByteArray()));
            }
        });
        return out;
    }

    /** Batching (SPEC §4 {@code publish.batch}), live: up to {@code maxMessages} readings per message, waiting at most {@code maxDelay} to fill one. */
    public void batching(int maxMessages, Duration maxDelay) {
        this.batchDelay = maxDelay;
        this.batchMessages = Math.min(maxMessages, WINDOW);
    }

    private void done(long e, long[] ids, Throwable failure) {
        synchronized (monitor) {
            if (e != epoch) return; // an answer from a connection given up on
            if (failure != null) {
                log.warn("reading not acknowledged, will resend after reconnect: {}", failure.toString());
                broken = true;
                monitor.notifyAll();
                return;
            }
            boolean oldest = false, full = inFlight.size() >= WINDOW;
            for (long id : ids) {
                if (!inFlight.isEmpty() && inFlight.firstKey() == id) oldest = true;
                if (inFlight.remove(id) != null) acknowledged.incrementAndGet();
            }
            if (oldest) markAcknowledged(); // the mark moves only when the oldest in flight is answered
            if ((full && inFlight.size() < WINDOW) || inFlight.isEmpty()) monitor.notifyAll(); // room again
        }
    }

    /** Every id below the oldest one in flight (or up to the cursor when none is) is acknowledged. Holds the monitor. */
    private void markAcknowledged() {
        long mark = inFlight.isEmpty() ? cursor : inFlight.firstKey() - 1;
        journal.acknowledged(mark);
    }

    /** Stops sending, publishes offline and disconnects. Call {@link #flush} first to drain. */
    @Override
    public void close() {
        closing = true;
        synchronized (monitor) {
            monitor.notifyAll();
        }
        // Waiting out a reconnect backoff would only delay the stop.
        if (!link.isConnected()) sender.interrupt();
        try {
            sender.join(MqttLink.ACK_TIMEOUT.toMillis() + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        link.goOffline();
        long left = depth();
        if (left > 0) log.info("stopped with {} readings not acknowledged by the broker; they stay in the journal", left);
    }
}
