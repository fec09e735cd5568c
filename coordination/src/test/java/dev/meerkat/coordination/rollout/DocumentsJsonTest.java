package dev.meerkat.coordination.rollout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.meerkat.config.Json;
import dev.meerkat.config.RolloutDocument;
import dev.meerkat.coordination.registration.MemberInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The documents the agent writes to znodes (SPEC §6-7) come out of {@link Json} byte for byte as
 * Jackson's {@code ObjectMapper} wrote them before the agent stopped loading it, and read back the same.
 */
class DocumentsJsonTest {
    private static final ObjectMapper JACKSON = JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static <T> void same(T value, Class<T> type) throws Exception {
        byte[] theirs = JACKSON.writeValueAsBytes(value);
        assertArrayEquals(theirs, Json.write(value), () -> new String(theirs) + " against " + new String(Json.write(value)));
        T read = JACKSON.readerFor(type).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(theirs);
        assertEquals(read, Json.readTolerant(theirs, type));
        assertEquals(value, Json.readTolerant(theirs, type));
    }

    @Test
    void rolloutStateTargetReportAndMemberAreWrittenAndReadAsJacksonDid() throws Exception {
        Map<String, RolloutState.Device> devices = new LinkedHashMap<>();
        devices.put("gw-2", new RolloutState.Device(1, "healthy", null, "2026-11-22T08:00:00Z", "2026-11-22T08:01:00Z"));
        devices.put("gw-1", new RolloutState.Device(0, "timed-out", "no report within 10m", "t", null));
        same(new RolloutState("running", null, 40, List.of(new RolloutState.Wave(4, List.of("gw-1", "gw-2"), "t", null)),
                devices, 1, 0, -1, "gw-9", 17L, "2026-11-22T08:02:00Z"), RolloutState.class);
        same(RolloutState.created(), RolloutState.class);
        same(new FirmwareTarget("r1", "2.0.1", new RolloutDocument.Artifact("https://x/a.deb", "ab".repeat(32), null),
                "package", "10m", "gw-9", 17L, "t"), FirmwareTarget.class);
        same(new FirmwareReport("r1", "2.0.1", "downloading", "t", null, 1024L, null, "2.0.0",
                List.of(new FirmwareReport.Step("pending", "t", null), new FirmwareReport.Step("failed", "t", "sha256 \"mismatch\""))),
                FirmwareReport.class);
        same(new MemberInfo("gw-1", "f", "0.1.0", "2.0.0", "host", List.of("10.0.0.2", "fe80::1"), "t", List.of("i2c")),
                MemberInfo.class);
    }
}
