package dev.meerkat.agent.sparkplug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Date;
import org.eclipse.tahu.message.SparkplugBPayloadEncoder;
import org.eclipse.tahu.message.model.Metric;
import org.eclipse.tahu.message.model.MetricDataType;
import org.eclipse.tahu.message.model.SparkplugBPayload;
import org.junit.jupiter.api.Test;

class HostMessagesTest {

    private static byte[] ncmd(String metric, boolean value) throws Exception {
        return new SparkplugBPayloadEncoder().getBytes(new SparkplugBPayload.SparkplugBPayloadBuilder().setTimestamp(new Date())
                .addMetric(new Metric.MetricBuilder(metric, MetricDataType.Boolean, value).createMetric()).createPayload(), false);
    }

    @Test
    void aRebirthIsNodeControlRebirthTrue() throws Exception {
        assertTrue(HostMessages.rebirthRequested(ncmd("Node Control/Rebirth", true)));
        assertFalse(HostMessages.rebirthRequested(ncmd("Node Control/Rebirth", false)));
        assertFalse(HostMessages.rebirthRequested(ncmd("Node Control/Reboot", true)));
        assertThrows(Exception.class, () -> HostMessages.rebirthRequested(new byte[] {(byte) 0xff, 0x01, 0x02}));
    }

    @Test
    void aStateIsSparkplug3JsonOrTheOlderWords() {
        assertEquals(true, HostMessages.online(bytes("{\"online\":true,\"timestamp\":1700000000000}")));
        assertEquals(false, HostMessages.online(bytes("{\"online\":false,\"timestamp\":1700000000000}")));
        assertEquals(true, HostMessages.online(bytes("ONLINE")));
        assertEquals(false, HostMessages.online(bytes(" offline\n")));
        assertNull(HostMessages.online(bytes("{\"online\":\"yes\"}")));
        assertNull(HostMessages.online(bytes("maybe")));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
