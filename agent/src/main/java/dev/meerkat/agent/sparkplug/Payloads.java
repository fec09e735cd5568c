package dev.meerkat.agent.sparkplug;

import dev.meerkat.agent.bridge.Reading;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.eclipse.tahu.message.SparkplugBPayloadEncoder;
import org.eclipse.tahu.message.model.Metric;
import org.eclipse.tahu.message.model.MetricDataType;
import org.eclipse.tahu.message.model.PropertyDataType;
import org.eclipse.tahu.message.model.PropertySet;
import org.eclipse.tahu.message.model.PropertyValue;
import org.eclipse.tahu.message.model.SparkplugBPayload;

/**
 * The Sparkplug B payloads of an edge node, encoded with Eclipse Tahu: every metric with its name
 * (no aliases) and its timestamp, births with each metric's datatype and unit ({@code engUnit}),
 * data with the reading's Meerkat {@code seq} as a property of each metric.
 */
final class Payloads {
    static final String BD_SEQ = "bdSeq", REBIRTH = "Node Control/Rebirth", UNIT = "engUnit", SEQ = "seq";
    private static final SparkplugBPayloadEncoder ENCODER = new SparkplugBPayloadEncoder();

    private Payloads() {}

    /** NDEATH: the bdSeq alone, no seq (the will of the connection, and a clean stop's own). */
    static byte[] ndeath(long bdSeq, long nowMs) throws Exception {
        return encode(new SparkplugBPayload.SparkplugBPayloadBuilder().setTimestamp(new Date(nowMs))
                .addMetric(new Metric.MetricBuilder(BD_SEQ, MetricDataType.Int64, bdSeq).timestamp(new Date(nowMs)).createMetric())
                .createPayload());
    }

    /** NBIRTH: seq 0, the bdSeq of the connection's will, and Node Control/Rebirth false. */
    static byte[] nbirth(long bdSeq, long nowMs) throws Exception {
        Date now = new Date(nowMs);
        return encode(new SparkplugBPayload.SparkplugBPayloadBuilder().setTimestamp(now).setSeq(0L)
                .addMetric(new Metric.MetricBuilder(BD_SEQ, MetricDataType.Int64, bdSeq).timestamp(now).createMetric())
                .addMetric(new Metric.MetricBuilder(REBIRTH, MetricDataType.Boolean, false).timestamp(now).createMetric())
                .createPayload());
    }

    /**
     * DBIRTH of a sensor: each quantity a Double metric with its unit; its current value, the last
     * one sent, or null (is_null) before any.
     */
    static byte[] dbirth(Map<String, String> quantities, Map<String, Double> last, long seq, long nowMs) throws Exception {
        Date now = new Date(nowMs);
        SparkplugBPayload.SparkplugBPayloadBuilder b = new SparkplugBPayload.SparkplugBPayloadBuilder().setTimestamp(now).setSeq(seq);
        for (Map.Entry<String, String> q : quantities.entrySet()) {
            b.addMetric(new Metric.MetricBuilder(q.getKey(), MetricDataType.Double, last == null ? null : last.get(q.getKey()))
                    .timestamp(now).properties(props(UNIT, new PropertyValue(PropertyDataType.String, q.getValue()))).createMetric());
        }
        return encode(b.createPayload());
    }

    /** DDATA of one reading: its values at its sample time, historical when taken before this birth. */
    static byte[] ddata(Reading r, boolean historical, long seq, long nowMs) throws Exception {
        Date sampled = Date.from(r.ts());
        SparkplugBPayload.SparkplugBPayloadBuilder b = new SparkplugBPayload.SparkplugBPayloadBuilder().setTimestamp(new Date(nowMs)).setSeq(seq);
        List<Metric> metrics = new ArrayList<>();
        for (Map.Entry<String, Double> v : r.values().entrySet()) {
            metrics.add(new Metric.MetricBuilder(v.getKey(), MetricDataType.Double, v.getValue()).timestamp(sampled)
                    .isHistorical(historical ? Boolean.TRUE : null).properties(props(SEQ, new PropertyValue(PropertyDataType.Int64, r.seq())))
                    .createMetric());
        }
        return encode(b.addMetrics(metrics).createPayload());
    }

    private static PropertySet props(String name, PropertyValue value) {
        return new PropertySet.PropertySetBuilder().addProperty(name, value).createPropertySet();
    }

    private static byte[] encode(SparkplugBPayload p) throws IOException {
        return ENCODER.getBytes(p, false);
    }
}
