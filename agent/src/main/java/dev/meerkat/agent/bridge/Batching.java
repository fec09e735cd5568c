package dev.meerkat.agent.bridge;

import dev.meerkat.agent.journal.Record;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Batching (SPEC §4 {@code publish.batch}): readings into MQTT messages. Pure logic. */
final class Batching {
    private Batching() {}

    /**
     * The messages for {@code records} (in journal order): one per reading, or with batching
     * ({@code max} above 1) up to {@code max} readings of one topic in a JSON array, each sensor's in
     * seq order. Null when batching asks to wait: every batch is short and its oldest reading
     * younger than {@code maxDelayMs} at {@code nowMs}.
     */
    static List<Outbox.Message> messages(List<Record> records, int max, long maxDelayMs, long nowMs) {
        List<Outbox.Message> out = new ArrayList<>();
        if (max <= 1) {
            for (Record r : records) out.add(new Outbox.Message(r.topic(), r.qos(), List.of(r), r.payload()));
            return out;
        }
        Map<String, List<Record>> byTopic = new LinkedHashMap<>();
        long oldest = Long.MAX_VALUE;
        for (Record r : records) {
            byTopic.computeIfAbsent(r.topic(), t -> new ArrayList<>()).add(r);
            oldest = Math.min(oldest, r.tsMillis());
        }
        boolean allShort = byTopic.values().stream().allMatch(l -> l.size() < max);
        if (!records.isEmpty() && allShort && nowMs - oldest < maxDelayMs) return null;
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
                out.add(new Outbox.Message(topic, part.get(0).qos(), List.copyOf(part), json.toByteArray()));
            }
        });
        return out;
    }
}
