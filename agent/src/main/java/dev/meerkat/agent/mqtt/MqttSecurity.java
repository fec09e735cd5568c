package dev.meerkat.agent.mqtt;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Secrets;
import dev.meerkat.config.TlsStores;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * What the bootstrap config's {@code mqtt} section asks of the connection's security: TLS with a
 * trust store and, for mutual TLS, a key store (PKCS12 or JKS, found by content), and a user name
 * and password from files. Secret files must be owner-only (see {@link Secrets}); their content
 * goes nowhere but into the connection.
 */
public record MqttSecurity(Optional<SSLSocketFactory> tls, Optional<String> username, Optional<char[]> password) {
    public static final MqttSecurity NONE = new MqttSecurity(Optional.empty(), Optional.empty(), Optional.empty());

    /** Reads every file now, so that a bad one stops the start with a message naming it. */
    public static MqttSecurity of(BootstrapConfig.Mqtt mqtt) throws IOException {
        Optional<SSLSocketFactory> tls = Optional.empty();
        if (mqtt.tls().isPresent()) tls = Optional.of(socketFactory(mqtt.tls().get(), "mqtt.tls"));
        Optional<String> user = Optional.empty();
        if (mqtt.usernameFile().isPresent()) {
            try {
                user = Optional.of(Files.readString(mqtt.usernameFile().get(), StandardCharsets.UTF_8).strip());
            } catch (IOException e) {
                throw dev.meerkat.config.Secrets.unreadable(mqtt.usernameFile().get(), "mqtt.usernameFile", e);
            }
        }
        Optional<char[]> pass = Optional.empty();
        if (mqtt.passwordFile().isPresent()) pass = Optional.of(Secrets.read(mqtt.passwordFile().get(), "mqtt.passwordFile"));
        return new MqttSecurity(tls, user, pass);
    }

    static SSLSocketFactory socketFactory(BootstrapConfig.Tls t, String key) throws IOException {
        try {
            TrustManagerFactory tmf = null;
            if (t.trustStore() != null) {
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(TlsStores.trustStore(t, key).store());
            }
            KeyManagerFactory kmf = null;
            if (t.keyStore() != null) {
                TlsStores.Opened ks = TlsStores.keyStore(t, key);
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks.store(), ks.password());
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IOException(key + ": " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "MqttSecurity[tls=" + tls.isPresent() + ", username=" + username.isPresent() + ", password=" + password.isPresent() + "]";
    }
}
