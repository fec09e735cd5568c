package dev.meerkat.agent.sparkplug;

import dev.meerkat.agent.bridge.Acknowledgements;
import dev.meerkat.agent.bridge.Bridge;
import dev.meerkat.agent.bridge.Reading;
import dev.meerkat.agent.bridge.ReconnectBackoff;
import dev.meerkat.agent.journal.Journal;
import dev.meerkat.agent.journal.Record;
import dev.meerkat.agent.mqtt.MqttTransport;
import dev.meerkat.agent.mqtt.MqttTransportException;
import dev.meerkat.time.Ticker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code publish.format} {@code sparkplug-b} (SPEC §12, docs/sparkplug.md): the fleet is the
 * Sparkplug group, the gateway the edge node, each sensor a Sparkplug device whose metrics are its
 * quantities. One thread of its own, which alone publishes, so seq follows the order on the wire:
 *
 * <ul>
 *   <li>Each connection takes the next bdSeq ({@link BdSeq}, kept across restarts) and sets NDEATH
 *       with it as the will (QoS 1, not retained); subscribes to its NCMD and, with a primary host,
 *       to the host's STATE (3.0's {@code spBv1.0/STATE/host}, JSON, and the older {@code STATE/host}).
 *   <li>With a primary host, nothing is born or sent until its STATE says online; when it says
 *       offline, the node publishes NDEATH, disconnects, and waits on a new connection.
 *   <li>NBIRTH (seq 0, the will's bdSeq, Node Control/Rebirth false), then a DBIRTH per sensor with
 *       every quantity, its datatype and unit, then DDATA per reading; seq 0-255 per node, every
 *       message but NDEATH. Births and data at QoS 0, not retained. A rebirth command is answered
 *       with the births again.
 *   <li>Readings come from the journal, in order; a reading leaves it once written to the
 *       connection (QoS 0 has no acknowledgement). Readings taken before the current birth (a broker
 *       outage, the host away) go as historical metrics. One lost with a dying connection shows to
 *       the host as a seq gap, which it answers with a rebirth request.
 * </ul>
 */
public final class SparkplugBridge implements Bridge {
    private static final Logger log = LoggerFactory.getLogger(SparkplugBridge.class);
    static final String NAMESPACE = "spBv1.0";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final int READ = 200;
    /** DDATA handed to the client and not yet written, at most (Paho takes 1,000; see PahoTransport). */
    static final int WINDOW = 500;
    /** The sender goes round at least this often with nothing to do, so that {@link #loopAlive} sees it. */
    private static final Duration LIVENESS = Duration.ofSeconds(10);

    private final MqttTransport transport;
    private final Journal journal;
    private final String group, node, primaryHost;
    private final BdSeq bdSeqs;
    private final Supplier<Map<String, Map<String, String>>> sensors;
    private final Clock clock;
    private final Ticker ticker;
    private final Runnable onConnectionChange;
    private final Thread sender;
    private final Object monitor = new Object();
    private final AtomicLong sent = new AtomicLong();
    private final Acknowledgements acknowledged = new Acknowledgements();
    private volatile boolean closing, rebirth, nudged;
    private final WriteWindow window = new WriteWindow(WINDOW);
    /** The primary host's last STATE: null while none was seen on this connection. */
    private volatile Boolean hostOnline;
    private volatile long loopAt, bdSeq = -1, seq = -1;
    // Sender thread only:
    private final ReconnectBackoff backoff = new ReconnectBackoff();
    private boolean born;
    private long birthMs, afterId;
    private final Set<String> devicesBorn = new HashSet<>();
    private final Map<String, Map<String, Double>> lastValues = new HashMap<>();

    /**
     * @param sensors     each sensor's quantities and units now (the running config's)
     * @param primaryHost the primary host's id, or empty for none
     */
    public SparkplugBridge(MqttTransport transport, Journal journal, String fleet, String device, Path storageDir, String primaryHost,
                           Supplier<Map<String, Map<String, String>>> sensors, Clock clock, Ticker ticker, Runnable onConnectionChange) {
        this.transport = transport;
        this.journal = journal;
        this.group = fleet;
        this.node = device;
        this.primaryHost = primaryHost;
        this.bdSeqs = new BdSeq(storageDir.resolve("sparkplug").resolve("bdseq"));
        this.sensors = sensors;
        this.clock = clock;
        this.ticker = ticker;
        this.onConnectionChange = onConnectionChange;
        this.loopAt = ticker.nanos();
        transport.onConnectionLost(() -> {
            log.warn("mqtt connection lost (sparkplug)");
            onConnectionChange.run();
            nudge();
        });
        journal.onCommit(this::nudge);
        // A platform thread: Paho blocks inside synchronized code, which would pin a virtual thread's carrier.
        this.sender = Thread.ofPlatform().name("meerkat-sparkplug").daemon(true).unstarted(this::run);
    }

    String topic(String type) {
        return NAMESPACE + "/" + group + "/" + type + "/" + node;
    }

    @Override
    public void start() {
        sender.start();
    }

    @Override
    public void offer(Reading r, String topic, int qos) {
        journal.append(r.sensor(), r.seq(), r.ts().toEpochMilli(), topic, qos, r.payload());
    }

    private void nudge() {
        synchronized (monitor) {
            nudged = true;
            monitor.notifyAll();
        }
    }

    private void run() {
        try {
            while (!closing) {
                loopAt = ticker.nanos();
                round();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void round() throws InterruptedException {
        synchronized (monitor) {
            nudged = false;
        }
        if (window.broken()) {
            transport.disconnect(Duration.ofMillis(500));
            onConnectionChange.run();
        }
        if (!transport.isConnected() && !connect()) return;
        try {
            if (!primaryHost.isEmpty() && !Boolean.TRUE.equals(hostOnline)) {
                if (born && Boolean.FALSE.equals(hostOnline)) {
                    log.info("primary host {} is offline: ending this node session (NDEATH) until it is back", primaryHost);
                    transport.publish(topic("NDEATH"), Payloads.ndeath(bdSeq, clock.millis()), 1, false, TIMEOUT);
                    transport.disconnect(Duration.ofSeconds(2));
                    onConnectionChange.run();
                    return;
                }
                idle(LIVENESS); // its STATE wakes the thread
                return;
            }
            if (!born || rebirth) birth();
            Journal.Batch batch = journal.read(afterId, READ, Duration.ZERO);
            if (batch.records().isEmpty()) {
                idle(LIVENESS); // a commit, a command or a STATE wakes the thread
                return;
            }
            for (Record r : batch.records()) {
                if (closing || rebirth) return;
                data(r);
            }
            afterId = Math.max(afterId, batch.upTo());
        } catch (MqttTransportException e) {
            log.warn("sparkplug publish failed, reconnecting: {}", e.getMessage());
            transport.disconnect(Duration.ofMillis(500));
            onConnectionChange.run();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            log.error("sparkplug payload not made: {}", e.toString());
            idle(Duration.ofSeconds(1));
        }
    }

    private void idle(Duration d) throws InterruptedException {
        synchronized (monitor) {
            if (!nudged && !closing) monitor.wait(d.toMillis());
        }
    }

    /** A new MQTT connection, with the next bdSeq's NDEATH as its will; false (after the backoff) when the broker is not there. */
    private boolean connect() throws InterruptedException {
        long next = bdSeqs.next();
        try {
            hostOnline = null;
            transport.connect(new MqttTransport.Will(topic("NDEATH"), Payloads.ndeath(next, clock.millis()), 1, false), TIMEOUT);
            bdSeq = next;
            born = false;
            window.reset();
            afterId = journal.ackedId(); // what was written to a connection before left the journal
            transport.subscribe(topic("NCMD"), 1, this::command, TIMEOUT);
            if (!primaryHost.isEmpty()) {
                transport.subscribe(NAMESPACE + "/STATE/" + primaryHost, 1, this::state, TIMEOUT);
                transport.subscribe("STATE/" + primaryHost, 1, this::state, TIMEOUT);
            }
            log.info("mqtt connected (sparkplug) node={} bdSeq={}", topic("NBIRTH"), next);
            backoff.reset();
            onConnectionChange.run();
            return true;
        } catch (MqttTransportException e) {
            transport.disconnect(Duration.ofMillis(500));
            long delay = backoff.nextMillis();
            log.warn("mqtt not connected (sparkplug), retrying in {}ms: {}", delay, e.getMessage());
            Thread.sleep(delay);
            return false;
        } catch (Exception e) {
            throw new IllegalStateException("the NDEATH payload could not be made", e);
        }
    }

    /** NBIRTH, then a DBIRTH for each sensor of the config: seq starts again at 0. */
    private void birth() throws Exception {
        rebirth = false;
        long now = clock.millis();
        seq = 0;
        transport.publish(topic("NBIRTH"), Payloads.nbirth(bdSeq, now), 0, false, TIMEOUT);
        devicesBorn.clear();
        for (Map.Entry<String, Map<String, String>> s : sensors.get().entrySet()) {
            deviceBirth(s.getKey(), s.getValue(), now);
        }
        born = true;
        birthMs = now;
        log.info("sparkplug node born bdSeq={} devices={}", bdSeq, devicesBorn.size());
    }

    private void deviceBirth(String sensor, Map<String, String> quantities, long now) throws Exception {
        transport.publish(topic("DBIRTH") + "/" + sensor, Payloads.dbirth(quantities, lastValues.get(sensor), nextSeq(), now), 0, false, TIMEOUT);
        devicesBorn.add(sensor);
    }

    private long nextSeq() {
        seq = (seq + 1) % 256;
        return seq;
    }

    /** One reading as DDATA (its device born first if it was not: a sensor added since the birth, or one removed with readings left). */
    private void data(Record r) throws Exception {
        Reading reading = Reading.parse(r.payload());
        long now = clock.millis();
        if (!devicesBorn.contains(r.sensor())) {
            Map<String, String> q = sensors.get().getOrDefault(r.sensor(), reading.units());
            deviceBirth(r.sensor(), q, now);
        }
        byte[] payload = Payloads.ddata(reading, r.tsMillis() < birthMs, nextSeq(), now);
        long e = window.take(LIVENESS);
        if (e < 0) return;
        String sensor = r.sensor();
        long id = r.id();
        // Handed to the client without waiting: it writes them in order, and says so in order. Counted
        // as sent first, since the client may say it was written before this thread goes on.
        sent.incrementAndGet();
        try {
            transport.publishAsync(topic("DDATA") + "/" + sensor, payload, 0, failure -> written(e, sensor, id, failure));
        } catch (MqttTransportException | RuntimeException notHandedOver) {
            sent.decrementAndGet();
            throw notHandedOver;
        }
        lastValues.put(sensor, reading.values());
        afterId = id;
    }

    /** A DDATA was written to the connection (or failed), on the client's thread, in the order they were handed over. */
    private void written(long e, String sensor, long id, Throwable failure) {
        switch (window.written(e, failure)) {
            case COUNTED -> {
                journal.acknowledged(sensor, id);
                acknowledged.add(sensor, 1);
            }
            case BROKE -> {
                log.warn("a DDATA was not written, reconnecting: {}", failure.toString());
                nudge();
            }
            case IGNORED -> {}
        }
    }

    /** NCMD (on the client's thread): a rebirth request is answered by the sender. */
    private void command(String topic, byte[] payload) {
        try {
            if (!HostMessages.rebirthRequested(payload)) return;
            log.info("rebirth requested ({})", topic);
            rebirth = true;
            nudge();
        } catch (Exception e) {
            log.warn("NCMD on {} not understood: {}", topic, e.toString());
        }
    }

    /** The primary host's STATE (on the client's thread). */
    private void state(String topic, byte[] payload) {
        Boolean online = HostMessages.online(payload);
        if (online == null) {
            String text = new String(payload, StandardCharsets.UTF_8).trim();
            log.warn("STATE on {} not understood: {}", topic, text.length() > 80 ? text.substring(0, 80) : text);
            return;
        }
        if (!online.equals(hostOnline)) log.info("primary host {} is {} ({})", primaryHost, online ? "online" : "offline", topic);
        hostOnline = online;
        nudge();
    }

    @Override
    public boolean connected() {
        return transport.isConnected();
    }

    @Override
    public long depth() {
        return journal.depth();
    }

    @Override
    public long sent() {
        return sent.get();
    }

    @Override
    public Acknowledgements acknowledged() {
        return acknowledged;
    }

    @Override
    public boolean flush(Duration timeout) throws InterruptedException {
        return journal.awaitAcknowledged(timeout);
    }

    @Override
    public boolean loopAlive(Duration stale) {
        if (sender.getState() == Thread.State.NEW) return true;
        return !sender.isAlive() ? closing : ticker.nanos() - loopAt < stale.toNanos();
    }

    @Override
    public String format() {
        return "sparkplug-b";
    }

    @Override
    public Map<String, Object> formatState() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("groupId", group);
        m.put("edgeNodeId", node);
        m.put("bdSeq", bdSeq < 0 ? null : bdSeq);
        m.put("seq", seq < 0 ? null : seq);
        if (!primaryHost.isEmpty()) {
            Boolean online = hostOnline;
            m.put("primaryHost", Map.of("id", primaryHost, "state", online == null ? "unknown" : online ? "online" : "offline"));
        }
        return Map.of("sparkplug", m);
    }

    /** A clean stop: NDEATH published by the node itself (a clean disconnect sends no will), then disconnect. */
    @Override
    public void close() {
        closing = true;
        window.close();
        nudge();
        try {
            sender.join(Duration.ofSeconds(2).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (transport.isConnected() && bdSeq >= 0) {
            try {
                transport.publish(topic("NDEATH"), Payloads.ndeath(bdSeq, clock.millis()), 1, false, Duration.ofSeconds(2));
            } catch (Exception e) {
                log.warn("NDEATH not published at the stop: {}", e.toString());
            }
        }
        transport.disconnect(Duration.ofSeconds(2));
        transport.close();
    }
}
