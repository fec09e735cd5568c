package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.test.fixtures.AgentProcess;
import dev.meerkat.test.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** What the build leaves in packaging/target/meerkat-VERSION (SPEC §10), and the launcher's contract. */
class DistributionTest {
    final Path dist = AgentProcess.distribution();

    static Set<String> jars(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return new TreeSet<>(s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jar")).toList());
        }
    }

    @Test
    void hasTheLayoutOfTheSpec() {
        for (String f : List.of("bin/meerkat", "lib", "lib/sandbox", "etc/agent.yaml", "systemd/meerkat.service")) {
            assertTrue(Files.exists(dist.resolve(f)), f + " is missing");
        }
        assertTrue(Files.isExecutable(dist.resolve("bin/meerkat")));
    }

    @Test
    void theGatewayJarsHoldNoEmbeddedServerAndNoForeignNativeCode() throws Exception {
        Set<String> lib = jars(dist.resolve("lib"));
        Set<String> sandbox = jars(dist.resolve("lib/sandbox"));
        for (String jar : lib) {
            assertFalse(jar.startsWith("moquette") || jar.startsWith("h2-") || jar.startsWith("metrics-core")
                    || jar.startsWith("snappy") || jar.startsWith("jetty") || jar.startsWith("logback")
                    || jar.startsWith("junit") || jar.startsWith("curator-test") || jar.startsWith("testcontainers"),
                    "lib/ must not hold " + jar);
            // Nothing the agent runs refers to them, and each jar in lib/ costs heap (distribution.xml).
            assertFalse(jar.startsWith("guava-") || jar.startsWith("jsch-") || jar.startsWith("commons-io-"),
                    "lib/ holds a jar the agent never uses: " + jar);
            if (jar.contains("tcnative-boringssl-static-") || jar.contains("native-epoll-")) {
                assertTrue(jar.contains("linux-x86_64") || jar.contains("linux-aarch_64"), "a native jar for another platform: " + jar);
            }
        }
        assertTrue(lib.stream().anyMatch(j -> j.startsWith("meerkat-agent-")));
        assertTrue(sandbox.stream().anyMatch(j -> j.startsWith("moquette-broker-")));
        Set<String> both = new TreeSet<>(lib);
        both.retainAll(sandbox);
        assertEquals(Set.of(), both, "jars shipped twice");
    }

    @Test
    void noJarTheAgentLoadsIsSigned() throws Exception {
        // The JVM checks a signed jar's signature and each class's digest as it loads them, with
        // the JDK's PKCS#7 and X.509 code: memory a gateway pays for nothing (packaging/pom.xml).
        for (String jar : jars(dist.resolve("lib"))) {
            try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(dist.resolve("lib").resolve(jar).toFile())) {
                List<String> signatures = z.stream().map(java.util.zip.ZipEntry::getName)
                        .filter(n -> n.matches("META-INF/[^/]+\\.(SF|RSA|DSA|EC)")).toList();
                assertEquals(List.of(), signatures, jar + " is signed");
            }
        }
    }

    @Test
    void versionHelpAndUsageErrorsFollowTheExitCodes() throws Exception {
        Path work = Fixtures.workDir("dist");
        Path out = work.resolve("version.log");
        assertEquals(0, AgentProcess.run(out, Duration.ofSeconds(30), "--version"));
        assertTrue(Files.readString(out).contains("meerkat 0.1.0"), Files.readString(out));

        Path help = work.resolve("help.log");
        assertEquals(0, AgentProcess.run(help, Duration.ofSeconds(30), "--help"));
        assertTrue(Files.readString(help).contains("run"), Files.readString(help));
        assertTrue(Files.readString(help).contains("sandbox"), Files.readString(help));

        Path bad = work.resolve("bad.log");
        assertEquals(2, AgentProcess.run(bad, Duration.ofSeconds(30), "no-such-command"));
        assertEquals(2, AgentProcess.run(work.resolve("bad2.log"), Duration.ofSeconds(30), "run", "--no-such-option"));
    }
}
