package dev.meerkat.coordination;

import java.util.List;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ZKConfig;

/**
 * The ZooKeeper client's settings for a connection without TLS: what {@code new ZKClientConfig()}
 * holds, made without touching the JDK's TLS machinery.
 *
 * <p>Every {@link ZKConfig} copies the {@code zookeeper.ssl.*} and {@code ssl.quorum.*} system
 * properties by way of two {@code X509Util} instances, and that class's static initialiser asks
 * the JDK for its default TLS context and the cipher suites its server sockets support. That
 * loads the TLS provider and its trust store: about 400 classes and 14 MiB of resident memory in
 * a small JVM (docs/benchmarks.md, footprint), on a gateway whose ZooKeeper connection has no TLS.
 * This class copies the same system properties by their prefixes instead. A connection that does
 * use TLS (the agent's {@code zookeeper.tls}, or {@code zookeeper.client.secure} set as a system
 * property) loads the TLS machinery when it connects, as before.
 */
public final class PlainClientConfig extends ZKClientConfig {
    /** System properties that {@code ZKConfig} and {@code ZKClientConfig} copy one by one (the last, through X509Util). */
    private static final List<String> COPIED = List.of(
            JUTE_MAXBUFFER, KINIT_COMMAND, JGSS_NATIVE,
            ZK_SASL_CLIENT_USERNAME, ZK_SASL_CLIENT_CANONICALIZE_HOSTNAME, LOGIN_CONTEXT_NAME_KEY,
            ENABLE_CLIENT_SASL_KEY, ZOOKEEPER_SERVER_REALM, DISABLE_AUTO_WATCH_RESET,
            ZOOKEEPER_CLIENT_CNXN_SOCKET, SECURE_CLIENT, "zookeeper.fips-mode");
    /** The prefixes of the client's and the quorum's {@code X509Util} property names. */
    private static final List<String> TLS_PREFIXES = List.of("zookeeper.ssl.", "ssl.quorum.");

    /** Called by {@link ZKConfig}'s constructor, before this class's own (so it uses no fields). */
    @Override
    protected void handleBackwardCompatibility() {
        for (String key : COPIED) copy(key);
        for (String key : System.getProperties().stringPropertyNames()) {
            for (String prefix : TLS_PREFIXES) {
                if (key.startsWith(prefix)) {
                    copy(key);
                    break;
                }
            }
        }
    }

    private void copy(String key) {
        String value = System.getProperty(key);
        if (value != null) setProperty(key, value);
    }
}
