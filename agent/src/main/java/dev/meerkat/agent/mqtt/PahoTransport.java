package dev.meerkat.agent.mqtt;

import java.net.URI;
import java.time.Duration;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * {@link MqttTransport} on Eclipse Paho's {@code mqttv3} async client, MQTT 3.1.1. Paho's own
 * reconnect and offline buffer are off: the agent supervises the connection and keeps the buffer.
 */
public final class PahoTransport implements MqttTransport {
    private final MqttAsyncClient client;
    private final int keepAliveSeconds;
    private final MqttSecurity security;

    public PahoTransport(URI uri, String clientId, int keepAliveSeconds) throws MqttTransportException {
        this(uri, clientId, keepAliveSeconds, MqttSecurity.NONE);
    }

    public PahoTransport(URI uri, String clientId, int keepAliveSeconds, MqttSecurity security) throws MqttTransportException {
        this.security = security;
        try {
            this.client = new MqttAsyncClient(uri.toString(), clientId, new MemoryPersistence());
        } catch (MqttException e) {
            throw new MqttTransportException("cannot create an MQTT client for " + uri + ": " + e.getMessage(), e);
        }
        this.keepAliveSeconds = keepAliveSeconds;
    }

    @Override
    public void connect(Will will, Duration timeout) throws MqttTransportException {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setCleanSession(true);
        o.setAutomaticReconnect(false);
        o.setKeepAliveInterval(keepAliveSeconds);
        o.setConnectionTimeout(Math.max(1, (int) timeout.toSeconds()));
        // Paho's default of 10 in-flight messages throttles replay after an outage.
        o.setMaxInflight(1000);
        if (will != null) o.setWill(will.topic(), will.payload(), will.qos(), will.retained());
        security.tls().ifPresent(o::setSocketFactory);
        o.setHttpsHostnameVerificationEnabled(true);
        security.username().ifPresent(o::setUserName);
        security.password().ifPresent(o::setPassword);
        try {
            client.connect(o).waitForCompletion(timeout.toMillis());
        } catch (MqttException e) {
            throw new MqttTransportException("cannot connect to " + dev.meerkat.config.BootstrapConfig.masked(client.getServerURI()) + ": " + describe(e)
                    + closedInHandshake(e), e);
        }
    }

    /**
     * With TLS 1.3 a broker that refuses the client's certificate does so after the client has sent
     * it, so the client sees either the broker's alert or, when the broker has already closed the
     * socket, only a broken pipe or a reset: say what that means.
     */
    private String closedInHandshake(MqttException e) {
        if (!client.getServerURI().startsWith("ssl://")) return "";
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof javax.net.ssl.SSLException) return "";
            if (c instanceof java.net.SocketException || c instanceof java.io.EOFException) {
                return "; the broker closed the connection during or right after the TLS handshake, as it does when it"
                        + " does not accept this gateway's certificate (or its absence): check mqtt.tls.keyStore against"
                        + " the CA the broker trusts";
            }
        }
        return "";
    }

    @Override
    public void onConnectionLost(Runnable listener) {
        client.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                listener.run();
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                // the agent subscribes to nothing
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
                // acknowledgements are awaited on the publishing thread
            }
        });
    }

    @Override
    public boolean isConnected() {
        return client.isConnected();
    }

    @Override
    public void subscribe(String topicFilter, int qos, java.util.function.BiConsumer<String, byte[]> listener, Duration timeout)
            throws MqttTransportException {
        try {
            client.subscribe(topicFilter, qos, null, null, (topic, message) -> listener.accept(topic, message.getPayload()))
                    .waitForCompletion(timeout.toMillis());
        } catch (MqttException e) {
            throw new MqttTransportException("subscribe to " + topicFilter + " failed: " + describe(e), e);
        }
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, boolean retained, Duration ackTimeout)
            throws MqttTransportException {
        try {
            IMqttDeliveryToken token = client.publish(topic, payload, qos, retained);
            token.waitForCompletion(ackTimeout.toMillis());
        } catch (MqttException e) {
            throw new MqttTransportException("publish to " + topic + " failed: " + describe(e), e);
        }
    }

    @Override
    public void publishAsync(String topic, byte[] payload, int qos, java.util.function.Consumer<Throwable> done)
            throws MqttTransportException {
        try {
            client.publish(topic, payload, qos, false, null, new org.eclipse.paho.client.mqttv3.IMqttActionListener() {
                @Override
                public void onSuccess(org.eclipse.paho.client.mqttv3.IMqttToken token) {
                    done.accept(null);
                }

                @Override
                public void onFailure(org.eclipse.paho.client.mqttv3.IMqttToken token, Throwable failure) {
                    done.accept(failure == null ? new MqttTransportException("publish to " + topic + " failed", null) : failure);
                }
            });
        } catch (MqttException e) {
            throw new MqttTransportException("publish to " + topic + " failed: " + describe(e), e);
        }
    }

    @Override
    public void disconnect(Duration timeout) {
        try {
            if (client.isConnected()) client.disconnect(timeout.toMillis()).waitForCompletion(timeout.toMillis());
        } catch (MqttException e) {
            try {
                client.disconnectForcibly(100, 100);
            } catch (MqttException ignored) {
                // already gone
            }
        }
    }

    @Override
    public void close() {
        disconnect(Duration.ofSeconds(1));
        try {
            client.close(true);
        } catch (MqttException e) {
            // closing a client that never connected; nothing left to free
        }
    }

    private static String describe(MqttException e) {
        Throwable cause = e.getCause();
        return e.getMessage() + " (reason " + e.getReasonCode() + ")" + (cause == null ? "" : ": " + cause);
    }
}
