package dev.meerkat.sandbox;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import java.io.IOException;
import java.util.Properties;

/**
 * Moquette, an MQTT 3.1.1 broker in this JVM, on a loopback port: anonymous, no persistence. The
 * sandbox's broker, and the tests' where {@code mosquitto} is not installed.
 */
public final class EmbeddedMqttBroker implements AutoCloseable {
    private final int port;
    private Server server;

    public EmbeddedMqttBroker(int port) {
        this.port = port;
    }

    public synchronized void start() throws IOException {
        if (server != null) return;
        Properties p = new Properties();
        p.setProperty("host", "127.0.0.1");
        p.setProperty("port", Integer.toString(port));
        p.setProperty("websocket_port", "disabled");
        p.setProperty("allow_anonymous", "true");
        p.setProperty("persistence_enabled", "false");
        p.setProperty("telemetry_enabled", "false");
        p.setProperty("netty.epoll", "false");
        p.setProperty("netty.mqtt.message_size", "65536");
        Server s = new Server();
        s.startServer(new MemoryConfig(p));
        server = s;
    }

    public String uri() {
        return "tcp://127.0.0.1:" + port;
    }

    public synchronized void stop() {
        if (server == null) return;
        server.stopServer();
        server = null;
    }

    @Override
    public void close() {
        stop();
    }
}
