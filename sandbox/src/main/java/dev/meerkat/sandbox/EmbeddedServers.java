package dev.meerkat.sandbox;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;

/** The sandbox's servers: one embedded ZooKeeper and one embedded MQTT 3.1.1 broker (Moquette), on loopback. */
final class EmbeddedServers implements AutoCloseable {
    private final ZooKeeperServerEmbedded zookeeper;
    private final EmbeddedMqttBroker broker;
    private final int zkPort;

    private EmbeddedServers(ZooKeeperServerEmbedded zookeeper, int zkPort, EmbeddedMqttBroker broker) {
        this.zookeeper = zookeeper;
        this.zkPort = zkPort;
        this.broker = broker;
    }

    /** Starts both; a port of 0 means: the usual one (2181, 1883) when free, else any free one. */
    static EmbeddedServers start(Path dir, int zkPort, int mqttPort) throws Exception {
        int zp = pick(zkPort, 2181);
        int mp = pick(mqttPort, 1883);
        // No Jetty admin server in the sandbox (and none on the class path).
        System.setProperty("zookeeper.admin.enableServer", "false");
        Properties zc = new Properties();
        zc.setProperty("clientPort", Integer.toString(zp));
        zc.setProperty("clientPortAddress", "127.0.0.1");
        zc.setProperty("tickTime", "500");
        zc.setProperty("minSessionTimeout", "1000");
        zc.setProperty("maxSessionTimeout", "60000");
        zc.setProperty("4lw.commands.whitelist", "ruok,stat,mntr,srvr");
        zc.setProperty("maxCnxns", "1000");
        java.nio.file.Files.createDirectories(dir.resolve("zookeeper"));
        ZooKeeperServerEmbedded zk = ZooKeeperServerEmbedded.builder()
                .baseDir(dir.resolve("zookeeper"))
                .configuration(zc)
                .exitHandler(org.apache.zookeeper.server.embedded.ExitHandler.LOG_ONLY)
                .build();
        zk.start(30_000);

        EmbeddedMqttBroker broker = new EmbeddedMqttBroker(mp);
        try {
            broker.start();
        } catch (IOException | RuntimeException e) {
            zk.close();
            throw e;
        }
        return new EmbeddedServers(zk, zp, broker);
    }

    String zookeeperConnect() {
        return "127.0.0.1:" + zkPort;
    }

    String mqttUri() {
        return broker.uri();
    }

    private static int pick(int asked, int usual) throws IOException {
        if (asked > 0) {
            // Checked here: the embedded ZooKeeper does not fail cleanly on a port in use.
            if (!free(asked)) throw new IOException("port " + asked + " on 127.0.0.1 is in use; choose another or leave it out");
            return asked;
        }
        if (free(usual)) return usual;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        broker.stop();
        zookeeper.close();
    }
}
