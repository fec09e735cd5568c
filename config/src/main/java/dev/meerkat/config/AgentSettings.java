package dev.meerkat.config;

import java.time.Duration;
import java.util.List;

/** Fleet-wide agent settings, {@code /fleets/F/config/agent} overlaid by the device's (SPEC §4). */
public record AgentSettings(Mqtt mqtt, Publish publish, Buffer buffer, Rollout rollout, Election election, String logLevel) {

    public static final List<String> LOG_LEVELS = List.of("error", "warn", "info", "debug", "trace");

    public record Mqtt(String topicPrefix, int qos, boolean retainStatus) {}

    public record Batch(int maxMessages, Duration maxDelay) {}

    /**
     * @param homeAssistant Home Assistant's MQTT discovery (SPEC §12), with the {@code json} format only
     */
    public record Publish(String format, Batch batch, HomeAssistant homeAssistant, Sparkplug sparkplug) {}

    /** @param primaryHostId the Sparkplug primary host whose {@code STATE} the node honours; empty: none */
    public record Sparkplug(String primaryHostId) {}

    /** The formats of {@code publish.format} (SPEC §12). */
    public static final List<String> FORMATS = List.of("json", "sparkplug-b");

    /** @param prefix Home Assistant's discovery prefix, {@code homeassistant} unless its MQTT integration was told otherwise */
    public record HomeAssistant(boolean discovery, String prefix) {}

    /**
     * @param syncInterval how long a reading the broker has not acknowledged may wait in the page
     *     cache before it is forced to the card (0: before it is sent)
     */
    public record Buffer(long maxBytes, Duration maxAge, String onFull, Duration syncInterval) {}

    public record Rollout(Duration healthTimeout) {}

    /** @param candidates how many of the fleet's agents stand in its election at once (docs/scaling.md) */
    public record Election(int candidates) {}

    public static final AgentSettings DEFAULTS = new AgentSettings(
            new Mqtt("meerkat", 1, true),
            new Publish("json", new Batch(1, Duration.ZERO), new HomeAssistant(false, "homeassistant"), new Sparkplug("")),
            new Buffer(256L << 20, Duration.ofDays(7), "drop-oldest", Duration.ofMillis(100)),
            new Rollout(Duration.ofMinutes(10)),
            new Election(5),
            "info");

    private static final java.util.regex.Pattern TOPIC = java.util.regex.Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");
    private static final String TOPIC_RULE = "topic levels of letters, digits, '.', '_' or '-' separated by '/', no wildcards";

    /** Reads a (possibly partial) document: absent keys take the defaults. */
    static AgentSettings read(Fields doc) {
        AgentSettings d = DEFAULTS;
        Fields m = doc.object("mqtt");
        Mqtt mqtt = new Mqtt(
                m.string("topicPrefix", d.mqtt.topicPrefix, TOPIC, TOPIC_RULE),
                m.integer("qos", d.mqtt.qos, 0, 1),
                m.bool("retainStatus", d.mqtt.retainStatus));
        m.done();
        Fields p = doc.object("publish");
        String format = p.oneOf("format", d.publish.format, FORMATS);
        Fields b = p.object("batch");
        Batch batch = new Batch(b.integer("maxMessages", d.publish.batch.maxMessages, 1, 10_000),
                b.duration("maxDelay", d.publish.batch.maxDelay, Duration.ZERO, Duration.ofMinutes(1)));
        b.done();
        Fields h = p.object("homeAssistant");
        HomeAssistant ha = new HomeAssistant(h.bool("discovery", d.publish.homeAssistant.discovery()),
                h.string("prefix", d.publish.homeAssistant.prefix(), TOPIC, TOPIC_RULE));
        if (ha.discovery() && !format.equals("json")) {
            h.error("discovery", "Home Assistant's templates read Meerkat's JSON readings: discovery works with publish.format json only, not " + format);
        }
        h.done();
        Fields sp = p.object("sparkplug");
        // A Sparkplug host id is one topic level: no '/', '+' or '#'.
        Sparkplug sparkplug = new Sparkplug(sp.string("primaryHostId", d.publish.sparkplug.primaryHostId(),
                java.util.regex.Pattern.compile("|[A-Za-z0-9._-]{1,64}"), "one topic level of letters, digits, '.', '_' or '-', at most 64"));
        sp.done();
        p.done();
        Fields bu = doc.object("buffer");
        Buffer buffer = new Buffer(bu.size("maxBytes", d.buffer.maxBytes, 1L << 20, 1L << 40),
                bu.duration("maxAge", d.buffer.maxAge, Duration.ofMinutes(1), Duration.ofDays(365)),
                bu.oneOf("onFull", d.buffer.onFull, List.of("drop-oldest", "drop-newest")),
                bu.duration("syncInterval", d.buffer.syncInterval, Duration.ZERO, Duration.ofSeconds(10)));
        bu.done();
        Fields r = doc.object("rollout");
        Rollout rollout = new Rollout(r.duration("healthTimeout", d.rollout.healthTimeout, Duration.ofSeconds(10), Duration.ofDays(1)));
        r.done();
        Fields e = doc.object("election");
        Election election = new Election(e.integer("candidates", d.election.candidates, 1, 100));
        e.done();
        String level = doc.oneOf("logLevel", d.logLevel, LOG_LEVELS);
        doc.done();
        return new AgentSettings(mqtt, new Publish(format, batch, ha, sparkplug), buffer, rollout, election, level);
    }
}
