package dev.meerkat.agent.mqtt;

import java.time.Duration;

/**
 * The project's one MQTT interface (SPEC §8): Paho is behind it, so another client can be plugged
 * in. Calls block; keep them off virtual threads (Paho synchronises inside).
 */
public interface MqttTransport extends AutoCloseable {

    /** The connection's last will, published by the broker when the connection dies. */
    record Will(String topic, byte[] payload, int qos, boolean retained) {}

    void connect(Will will, Duration timeout) throws MqttTransportException;

    boolean isConnected();

    /** Called (on the client's thread; keep it short) when an established connection drops. */
    void onConnectionLost(Runnable listener);

    /** Publishes and, at QoS 1, waits for the broker's PUBACK. */
    void publish(String topic, byte[] payload, int qos, boolean retained, Duration ackTimeout) throws MqttTransportException;

    /**
     * Publishes without waiting. {@code done} gets null once the broker acknowledged it (QoS 1) or
     * it was written (QoS 0), else the failure; it runs on the client's thread, so keep it short.
     * Throws when the message cannot even be handed to the client (not connected).
     */
    void publishAsync(String topic, byte[] payload, int qos, java.util.function.Consumer<Throwable> done) throws MqttTransportException;

    /**
     * Subscribes on this connection (a new one starts with none) and waits for the broker's answer.
     * {@code listener} gets each message's topic and payload on the client's thread: keep it short.
     */
    default void subscribe(String topicFilter, int qos, java.util.function.BiConsumer<String, byte[]> listener, Duration timeout)
            throws MqttTransportException {
        throw new MqttTransportException("this transport does not subscribe", null);
    }

    /** A clean disconnect: the broker does not publish the will. */
    void disconnect(Duration timeout);

    @Override
    void close();
}
