package dev.meerkat.agent;

import dev.meerkat.config.AgentSettings;
import dev.meerkat.config.Bus;
import dev.meerkat.config.Durations;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.config.Sizes;
import java.util.LinkedHashMap;
import java.util.Map;

/** The effective config written back in the documents' own vocabulary (SPEC §4), every default filled in. */
public final class EffectiveJson {
    private EffectiveJson() {}

    public static Map<String, Object> of(EffectiveConfig c) {
        Map<String, Object> root = new LinkedHashMap<>();
        AgentSettings a = c.agent();
        Map<String, Object> agent = new LinkedHashMap<>();
        agent.put("mqtt", Map.of("topicPrefix", a.mqtt().topicPrefix(), "qos", a.mqtt().qos(), "retainStatus", a.mqtt().retainStatus()));
        agent.put("publish", Map.of("format", a.publish().format(), "batch", Map.of("maxMessages", a.publish().batch().maxMessages(),
                "maxDelay", Durations.format(a.publish().batch().maxDelay()))));
        agent.put("buffer", Map.of("maxBytes", Sizes.format(a.buffer().maxBytes()), "maxAge", Durations.format(a.buffer().maxAge()),
                "onFull", a.buffer().onFull(), "syncInterval", Durations.format(a.buffer().syncInterval())));
        agent.put("rollout", Map.of("healthTimeout", Durations.format(a.rollout().healthTimeout())));
        agent.put("logLevel", a.logLevel());
        root.put("agent", agent);
        Map<String, Object> sensors = new LinkedHashMap<>();
        for (SensorConfig s : c.sensors().values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("driver", s.driver());
            Map<String, Object> bus = bus(s.bus());
            if (!bus.isEmpty()) m.put("bus", bus);
            m.put("interval", Durations.format(s.interval()));
            s.lock().ifPresent(l -> m.put("lock", l));
            m.put("qos", s.qosOr(a.mqtt().qos()));
            m.put("settings", s.settings());
            sensors.put(s.id(), m);
        }
        root.put("sensors", sensors);
        return root;
    }

    private static Map<String, Object> bus(Bus bus) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (bus) {
            case Bus.I2c i -> {
                m.put("i2c", i.bus());
                m.put("address", String.format("0x%02x", i.address()));
            }
            case Bus.Gpio g -> m.put("gpio", g.pin());
            case Bus.OneWire w -> m.put("w1", w.slave());
            case Bus.None n -> { }
        }
        return m;
    }
}
