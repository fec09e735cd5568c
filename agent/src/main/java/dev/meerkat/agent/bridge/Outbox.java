package dev.meerkat.agent.bridge;

import dev.meerkat.agent.journal.Journal;
import dev.meerkat.agent.journal.Record;
import dev.meerkat.agent.mqtt.MqttTransport;
import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.time.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MQTT bridge: every reading goes into the {@link Journal} first; one sender thread reads the
 * committed readings and publishes them with up to {@link #WINDOW} awaiting their
 * acknowledgement; the journal lets a reading go once the broker has acknowledged it and every
 * reading of its sensor before it.
 *
 * <p>Each sensor has a lane: its readings go in id order, which is its seq order (SPEC §8). Each
 * round, the room in the window is shared equally among the sensors with readings waiting, from a
 * different sensor first each round, and what one leaves goes to the others; the lanes' messages
 * then go out in turn, one of each. So after an outage
 * every sensor's backlog is replayed side by side: a sensor with a few readings waiting (a slow
 * sensor, or one added during the outage) is through its backlog and back to live readings in the
 * first rounds instead of after every older reading of the others; a sensor's own live readings
 * follow its backlog.
 *
 * <ul>
 *   <li>A new connection sends again everything not acknowledged, each sensor's in order: the only
 *       duplicates are readings that were in flight when the connection broke.
 *   <li>Half-open connections: besides MQTT's keep-alive, a reading in flight for longer than the
 *       acknowledgement timeout ({@link MqttLink#ACK_TIMEOUT}) drops the connection and reconnects.
 *   <li>Paho's own persistence, offline buffer and automatic reconnect are not used: the journal is
 *       the buffer and this thread the supervisor.
 * </ul>
 */
public final class Outbox implements Bridge {
    private static final Logger log = LoggerFactory.getLogger(Outbox.class);
    /** Readings awaiting their acknowledgement at most (Paho allows 1000 in flight; see PahoTransport). */
    static final int WINDOW = 500;

    private final MqttLink link;
    private final MqttTransport transport;
    private final Journal journal;
    private final Turns shares;
    private final Thread sender;
    private final Object monitor = new Object();
    // Guarded by monitor:
    private int inFlight; // readings sent and not answered, all lanes
    private final Map<String, Lane> lanes = new java.util.HashMap<>();
    private long epoch;
    private boolean broken;
    private boolean nudged; // something for the sender since its round began (a commit, a status, a retarget)
    private final AtomicLong sent = new AtomicLong();
    private final Acknowledgements acknowledged = new Acknowledgements();
    private volatile boolean closing;
    private final java.util.concurrent.atomic.AtomicReference<Map<String, Object>> announce = new java.util.concurrent.atomic.AtomicReference<>();
    private volatile int batchMessages = 1;
    private volatile Duration batchDelay = Duration.ZERO;
    private final Clock clock;

    public Outbox(MqttTransport transport, Journal journal, String statusTopic, boolean retainStatus, String agentVersion,
                  Clock clock, Runnable onConnectionChange) {
        this(transport, journal, statusTopic, retainStatus, agentVersion, clock, Ticker.SYSTEM, onConnectionChange);
    }

    /** The same, with the time source of the acknowledgement timeout and the liveness (a test's). */
    public Outbox(MqttTransport transport, Journal journal, String statusTopic, boolean retainStatus, String agentVersion,
                  Clock clock, Ticker ticker, Runnable onConnectionChange) {
        this.ticker = ticker;
        this.loopAt = ticker.nanos();
        this.transport = transport;
        this.journal = journal;
        this.shares = new Turns(journal::read);
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
        journal.onCommit(this::nudge);
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
        nudge();
    }

    /** Wakes the sender for a new round: readings were committed, or there is a status to publish. */
    private void nudge() {
        synchronized (monitor) {
            nudged = true;
            monitor.notifyAll();
        }
    }

    /** The delivery accounting for the retained status topic: published by the sender thread soon. */
    public void announce(Map<String, Object> delivery) {
        announce.set(delivery);
        nudge();
    }

    /**
     * ZooKeeper's connection changed: the retained status says so ({@code "zookeeper":
     * {"connected": false}}), published again soon by the sender thread (an empty accounting keeps
     * the one last published).
     */
    public void zooKeeper(boolean connected) {
        link.zooKeeper(connected);
        announce(Map.of());
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

    /** The readings the broker acknowledged since the start, in all and per sensor. */
    public Acknowledgements acknowledged() {
        return acknowledged;
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
        return !sender.isAlive() ? closing : ticker.nanos() - loopAt < stale.toNanos();
    }

    private volatile long loopAt;
    private final Ticker ticker;

    private void run() {
        try {
            while (!closing) {
                loopAt = ticker.nanos();
                round();
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    private long seenConnects = -1; // the link's connections the sender has seen (sender thread only)

    /**
     * One turn of the sender: connect if need be, publish the status, then one round of readings,
     * or a wait for room in the window or for readings. A method of its own, not the body of the
     * endless loop: the JIT compiles it as a whole method, where a loop entered once would only be
     * compiled on stack replacement, again at each branch it had not yet taken, for every outbox.
     */
    private void round() throws InterruptedException {
        // Connects (with backoff) even with nothing to send, so that the status says online.
        if (!link.ensureConnected()) return;
        synchronized (monitor) {
            nudged = false; // what comes from here on sets it again
        }
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
                // A new connection: everything not acknowledged goes again, each sensor's in order.
                seenConnects = link.connects();
                broken = false;
                inFlight = 0;
                lanes.clear();
                epoch++;
            }
            e = epoch;
            if (ackOverdue()) {
                log.warn("no acknowledgement for {}ms: the connection is taken as dead", MqttLink.ACK_TIMEOUT.toMillis());
                broken = true;
            }
            drop = broken;
            if (!drop && inFlight >= WINDOW) {
                monitor.wait(untilNextCheck()); // an answer makes room and wakes it
                return;
            }
        }
        if (drop) {
            link.drop(); // outside the monitor: acknowledgement callbacks take it
            return;
        }
        long committed = journal.committedId();
        List<Lane> work = lanesWithWork(committed);
        if (work.isEmpty()) {
            synchronized (monitor) {
                if (!nudged && !broken && !closing) monitor.wait(untilNextCheck());
            }
            return;
        }
        int room;
        synchronized (monitor) {
            room = WINDOW - inFlight;
        }
        List<Turns.Turn> turns = shares.take(work, room);
        long fillingUntil = Long.MAX_VALUE; // a filling batch waits (not polls) for a commit, or until its oldest is maxDelay old
        for (Turns.Turn t : turns) {
            t.messages = messages(t.batch.records());
            if (t.messages == null) {
                for (Record r : t.batch.records()) fillingUntil = Math.min(fillingUntil, r.tsMillis() + batchDelay.toMillis());
            }
        }
        long now = ticker.nanos();
        synchronized (monitor) {
            if (epoch != e || broken) return;
            // All of them in flight before any is sent, so a mark never passes one not yet sent.
            for (Turns.Turn t : turns) {
                if (t.messages == null) continue;
                for (Message m : t.messages) {
                    for (Record r : m.records()) t.lane.sending(r.id(), now);
                    inFlight += m.records().size();
                }
            }
        }
        publish(turns, e);
        synchronized (monitor) {
            if (epoch == e && !broken) {
                for (Turns.Turn t : turns) {
                    if (t.messages == null) continue;
                    // Past everything just sent, and past ids of other sensors and without a reading (upTo).
                    if (t.batch.upTo() > t.lane.after) t.lane.after = t.batch.upTo();
                    if (t.lane.idle()) journal.acknowledged(t.lane.sensor, t.lane.after);
                }
            }
            if (fillingUntil != Long.MAX_VALUE && !nudged && !closing) monitor.wait(Math.max(1, Math.min(fillingUntil - clock.millis(), untilNextCheck())));
        }
    }

    /**
     * The lanes of the sensors with readings waiting (made for new ones, dropped for those with
     * nothing waiting or in flight), and of those, the ones with committed readings not yet sent.
     */
    private List<Lane> lanesWithWork(long committed) {
        List<Journal.Waiting> waiting = journal.waiting();
        List<Lane> work = new ArrayList<>();
        synchronized (monitor) {
            long round = ++rounds;
            for (Journal.Waiting w : waiting) {
                Lane lane = lanes.computeIfAbsent(w.sensor(), Lane::new);
                lane.waitingIn = round;
                // What is older than a sensor's oldest waiting reading is acknowledged or dropped.
                lane.after = Math.max(lane.after, w.firstId() - 1);
                if (w.lastId() > lane.after && lane.after < committed) work.add(lane);
            }
            lanes.values().removeIf(l -> l.idle() && l.waitingIn != round);
        }
        return work;
    }

    private long rounds;

    /**
     * Hands the round's messages to the client, the lanes' in turn, one each: a short backlog goes
     * out early in the round, not after a long one's share. A refusal marks the connection broken.
     */
    private void publish(List<Turns.Turn> turns, long e) {
        for (int k = 0, more = 1; more > 0; k++) {
            more = 0;
            for (Turns.Turn t : turns) {
                if (t.messages == null || k >= t.messages.size()) continue;
                more++;
                Message m = t.messages.get(k);
                long[] ids = new long[m.records().size()];
                for (int i = 0; i < ids.length; i++) ids[i] = m.records().get(i).id();
                try {
                    transport.publishAsync(m.topic(), m.payload(), m.qos(), failure -> done(e, t.lane, ids, failure));
                } catch (MqttTransportException ex) {
                    log.warn("reading not handed to the client, will resend after reconnect: {}", ex.getMessage());
                    synchronized (monitor) {
                        broken = true;
                    }
                    return;
                }
                sent.addAndGet(ids.length);
            }
        }
    }

    /** The sender goes round at least this often with nothing to do, so that {@link #loopAlive} sees it. */
    private static final long LIVENESS_MS = 10_000;

    /** How long (ms, at least 1) the sender may wait for a nudge: to the next acknowledgement deadline, at most {@link #LIVENESS_MS}. Holds the monitor. */
    private long untilNextCheck() {
        long now = ticker.nanos(), wait = LIVENESS_MS * 1_000_000;
        for (Lane lane : lanes.values()) {
            long at = lane.oldestSentAt();
            if (at >= 0) wait = Math.min(wait, at + MqttLink.ACK_TIMEOUT.toNanos() - now + 1_000_000);
        }
        return Math.max(1, wait / 1_000_000);
    }

    /** The oldest reading in flight has waited past the acknowledgement timeout. Holds the monitor. */
    private boolean ackOverdue() {
        long now = ticker.nanos();
        for (Lane lane : lanes.values()) {
            long at = lane.oldestSentAt();
            if (at >= 0 && now - at > MqttLink.ACK_TIMEOUT.toNanos()) return true;
        }
        return false;
    }

    /** One MQTT message: a reading, or with batching a JSON array of readings of one sensor. */
    record Message(String topic, int qos, List<Record> records, byte[] payload) {}

    /** The messages for {@code records} with the batching in force now ({@link Batching#messages}); null: wait for more. */
    List<Message> messages(List<Record> records) {
        return Batching.messages(records, batchMessages, batchDelay.toMillis(), clock.millis());
    }

    /** Batching (SPEC §4 {@code publish.batch}), live: up to {@code maxMessages} readings per message, waiting at most {@code maxDelay} to fill one. */
    public void batching(int maxMessages, Duration maxDelay) {
        this.batchDelay = maxDelay;
        this.batchMessages = Math.min(maxMessages, WINDOW);
    }

    private void done(long e, Lane lane, long[] ids, Throwable failure) {
        synchronized (monitor) {
            if (e != epoch) return; // an answer from a connection given up on
            if (failure != null) {
                log.warn("reading not acknowledged, will resend after reconnect: {}", failure.toString());
                broken = true;
                monitor.notifyAll();
                return;
            }
            boolean full = inFlight >= WINDOW;
            long mark = lane.mark();
            int n = 0;
            for (long id : ids) n += lane.answered(id);
            inFlight -= n;
            acknowledged.add(lane.sensor, n);
            // A sensor's mark moves only when its oldest in flight is answered.
            if (lane.mark() != mark) journal.acknowledged(lane.sensor, lane.mark());
            if ((full && inFlight < WINDOW) || inFlight == 0) monitor.notifyAll(); // room again
        }
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
