package dev.meerkat.agent.mqtt;

/** The broker could not be reached, refused us, or did not acknowledge in time. */
public final class MqttTransportException extends Exception {
    private static final long serialVersionUID = 1L;

    public MqttTransportException(String message, Throwable cause) {
        super(message, cause);
    }
}
