package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fixtures;
import dev.meerkat.testing.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code meerkat sandbox}, run through the launcher as a user runs it. */
class SandboxTest {
    @Test
    void runsThreeGatewaysThatRegisterAndPublishThenStops() throws Exception {
        Path work = Fixtures.workDir("sandbox");
        int zkPort = Ports.free(), mqttPort = Ports.free();
        Path log = work.resolve("sandbox.log");
        int code = AgentProcess.run(log, Duration.ofSeconds(90), "sandbox", "--duration", "12s",
                "--zk-port", Integer.toString(zkPort), "--mqtt-port", Integer.toString(mqttPort),
                "--dir", work.resolve("files").toString());
        String out = Files.readString(log);
        assertEquals(0, code, out);
        assertTrue(out.contains("ZooKeeper: 127.0.0.1:" + zkPort), out);
        assertTrue(out.contains("MQTT:      tcp://127.0.0.1:" + mqttPort), out);
        // The last view: every gateway registered, connected and delivering readings through the broker.
        List<String> lines = out.lines().toList();
        int header = lines.lastIndexOf(lines.stream().filter(l -> l.startsWith("gateway")).reduce((a, b) -> b).orElseThrow());
        Pattern row = Pattern.compile("(gw-[123]) +yes +yes +([0-9.]+) +(climate|light) #([0-9]+) .*");
        for (int i = 1; i <= 3; i++) {
            Matcher m = row.matcher(lines.get(header + i));
            assertTrue(m.matches(), "not a live gateway row: " + lines.get(header + i) + "\n" + out);
            assertTrue(Double.parseDouble(m.group(2)) > 0, "no readings/s: " + lines.get(header + i));
        }
        assertTrue(out.contains("Sandbox stopped."), out);
        assertTrue(Files.isDirectory(work.resolve("files/gw-1/journal")), "each gateway keeps its own state directory");
    }
}
