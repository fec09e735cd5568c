package dev.meerkat.agent.bridge;

import dev.meerkat.agent.journal.Journal;
import dev.meerkat.agent.journal.Record;
import dev.meerkat.agent.mqtt.MqttTransport;
import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.config.Json;
import java.time.Clock;
import java.time.Duration;
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

    public Outbox(MqttTransport transport, Journal journal, String statusTopic, boolean retainStatus, String agentVersion,
                  Clock clock, Runnable onConnectionChange) {
        this.transport = transport;
        this.journal = journal;
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
        journal.append(r.sensor(), r.seq(), r.ts().toEpochMilli(), topic, qos, Json.write(r.toJson()));
    }

    /** Moves the device's status topic (a new topic prefix): offline on the old one, online on the new. */
    public void retarget(String statusTopic, boolean retainStatus) {
        link.retarget(new MqttLink.Target(statusTopic, retainStatus));
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

    private void run() {
        long seenConnects = -1;
        try {
            while (!closing) {
                // Connects (with backoff) even with nothing to send, so that the status says online.
                if (!link.ensureConnected()) continue;
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
                for (Record r : batch.records()) {
                    synchronized (monitor) {
                        if (epoch != e || broken) break;
                        inFlight.put(r.id(), System.nanoTime());
                        cursor = r.id();
                    }
                    try {
                        transport.publishAsync(r.topic(), r.payload(), r.qos(), failure -> done(e, r.id(), failure));
                        sent.incrementAndGet();
                    } catch (MqttTransportException ex) {
                        log.warn("reading not handed to the client, will resend after reconnect: {}", ex.getMessage());
                        synchronized (monitor) {
                            broken = true;
                        }
                        break;
                    }
                }
                synchronized (monitor) {
                    if (epoch == e && !broken && batch.records().isEmpty() && batch.upTo() > cursor) cursor = batch.upTo();
                    markAcknowledged();
                }
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    private void done(long e, long id, Throwable failure) {
        synchronized (monitor) {
            if (e != epoch) return; // an answer from a connection given up on
            if (failure != null) {
                log.warn("reading not acknowledged, will resend after reconnect: {}", failure.toString());
                broken = true;
                monitor.notifyAll();
                return;
            }
            boolean oldest = !inFlight.isEmpty() && inFlight.firstKey() == id;
            if (inFlight.remove(id) != null) acknowledged.incrementAndGet();
            if (oldest) markAcknowledged(); // the mark moves only when the oldest in flight is answered
            if (inFlight.size() == WINDOW - 1 || inFlight.isEmpty()) monitor.notifyAll(); // room again
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
