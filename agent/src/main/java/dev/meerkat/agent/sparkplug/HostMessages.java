package dev.meerkat.agent.sparkplug;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.config.Json;
import java.nio.charset.StandardCharsets;
import org.eclipse.tahu.message.SparkplugBPayloadDecoder;
import org.eclipse.tahu.message.model.Metric;
import org.eclipse.tahu.message.model.MetricDataType;
import org.eclipse.tahu.message.model.SparkplugBPayload;
import org.eclipse.tahu.model.MetricDataTypeMap;

/** What the node reads from the host's side: the rebirth request of an NCMD and the primary host's STATE. */
final class HostMessages {
    private HostMessages() {}

    /** Whether an NCMD asks for a rebirth ({@code Node Control/Rebirth} true); throws when it is not Sparkplug B. */
    static boolean rebirthRequested(byte[] ncmd) throws Exception {
        // Hosts may leave the datatypes out of commands (Tahu's does): those of the node's metrics come from its birth.
        MetricDataTypeMap types = new MetricDataTypeMap();
        types.addMetricDataType(Payloads.REBIRTH, MetricDataType.Boolean);
        SparkplugBPayload p = new SparkplugBPayloadDecoder().buildFromByteArray(ncmd, types);
        for (Metric m : p.getMetrics()) {
            if (m != null && Payloads.REBIRTH.equals(m.getName()) && Boolean.TRUE.equals(m.getValue())) return true;
        }
        return false;
    }

    /** A STATE: Sparkplug 3.0's JSON {@code {"online": ...}} or the older ONLINE/OFFLINE; null when it is neither. */
    static Boolean online(byte[] state) {
        String text = new String(state, StandardCharsets.UTF_8).trim();
        if (text.equalsIgnoreCase("ONLINE")) return true;
        if (text.equalsIgnoreCase("OFFLINE")) return false;
        try {
            JsonNode j = Json.tree(state);
            return j.path("online").isBoolean() ? j.path("online").asBoolean() : null;
        } catch (Exception e) {
            return null;
        }
    }
}
