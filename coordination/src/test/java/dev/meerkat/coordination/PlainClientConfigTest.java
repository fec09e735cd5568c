package dev.meerkat.coordination;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.config.BootstrapConfig;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.QuorumX509Util;
import org.apache.zookeeper.common.X509Util;
import org.junit.jupiter.api.Test;

class PlainClientConfigTest {
    /** The system properties a {@code new ZKClientConfig()} copies: ZKConfig's, ZKClientConfig's, and its X509Utils'. */
    private static List<String> copiedNames() throws Exception {
        TreeSet<String> names = new TreeSet<>(List.of(ZKClientConfig.JUTE_MAXBUFFER, ZKClientConfig.KINIT_COMMAND,
                ZKClientConfig.JGSS_NATIVE, ZKClientConfig.ZK_SASL_CLIENT_USERNAME,
                ZKClientConfig.ZK_SASL_CLIENT_CANONICALIZE_HOSTNAME, ZKClientConfig.LOGIN_CONTEXT_NAME_KEY,
                ZKClientConfig.ENABLE_CLIENT_SASL_KEY, ZKClientConfig.ZOOKEEPER_SERVER_REALM,
                ZKClientConfig.DISABLE_AUTO_WATCH_RESET, ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET,
                ZKClientConfig.SECURE_CLIENT));
        for (X509Util u : List.of(new ClientX509Util(), new QuorumX509Util())) {
            try (u) {
                for (Method m : X509Util.class.getMethods()) {
                    if (m.getName().startsWith("get") && m.getName().endsWith("Property") && m.getParameterCount() == 0
                            && m.getReturnType() == String.class && !Modifier.isStatic(m.getModifiers())) {
                        names.add((String) m.invoke(u));
                    }
                }
            }
        }
        return List.copyOf(names);
    }

    @Test
    void holdsWhatZooKeepersOwnConfigHoldsForEverySystemPropertyItCopies() throws Exception {
        List<String> names = copiedNames();
        assertTrue(names.size() > 30, "the X509Util property names were found: " + names);
        List<String> set = new ArrayList<>();
        try {
            int i = 0;
            for (String n : names) {
                if (System.getProperty(n) == null) {
                    System.setProperty(n, String.valueOf(1000 + i++)); // numbers: some are parsed as such
                    set.add(n);
                }
            }
            ZKClientConfig theirs = new ZKClientConfig();
            PlainClientConfig ours = new PlainClientConfig();
            for (String n : names) {
                assertNotNull(theirs.getProperty(n), n + " is copied by ZKClientConfig");
                assertEquals(theirs.getProperty(n), ours.getProperty(n), n);
            }
        } finally {
            set.forEach(System::clearProperty);
        }
        ZKClientConfig theirs = new ZKClientConfig();
        PlainClientConfig ours = new PlainClientConfig();
        for (String n : names) assertEquals(theirs.getProperty(n), ours.getProperty(n), n + " unset");
    }

    /** In a JVM of its own: whether the JDK's TLS context class was loaded; see {@link #main}. */
    private static boolean loadsTls(String what) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Xlog:class+load=info:stdout", "-cp", System.getProperty("java.class.path"),
                PlainClientConfigTest.class.getName(), what).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("probe done"), out);
        return out.contains("sun.security.ssl.SSLContextImpl ");
    }

    @Test
    void theAgentsClientWithoutTlsNeverLoadsTheJdksTls() throws Exception {
        assertTrue(loadsTls("zookeeper"), "control: ZooKeeper's own client config loads the JDK's TLS");
        assertFalse(loadsTls("curator"), "a Curator client made by ZooKeeperClients, started, without TLS");
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("zookeeper")) {
            new ZKClientConfig();
        } else {
            BootstrapConfig.ZooKeeper zk = new BootstrapConfig.ZooKeeper("127.0.0.1:1", "/meerkat", Duration.ofSeconds(2),
                    Optional.empty(), Optional.empty());
            try (CuratorFramework client = ZooKeeperClients.create(zk)) {
                client.start();
                assertNotNull(client.getZookeeperClient().getZooKeeper()); // made: this is where its config is read
                Thread.sleep(300); // it tries to connect meanwhile
            }
        }
        System.out.println("probe done");
    }
}
