package dev.meerkat.agent.mqtt;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Secrets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
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
            user = Optional.of(Files.readString(mqtt.usernameFile().get(), StandardCharsets.UTF_8).strip());
        }
        Optional<char[]> pass = Optional.empty();
        if (mqtt.passwordFile().isPresent()) pass = Optional.of(Secrets.read(mqtt.passwordFile().get(), "mqtt.passwordFile"));
        return new MqttSecurity(tls, user, pass);
    }

    static SSLSocketFactory socketFactory(BootstrapConfig.Tls t, String key) throws IOException {
        try {
            TrustManagerFactory tmf = null;
            if (t.trustStore() != null) {
                char[] pw = t.trustStorePasswordFile() == null ? new char[0] : Secrets.read(t.trustStorePasswordFile(), key + ".trustStorePasswordFile");
                KeyStore ts = load(t.trustStore(), pw, key + ".trustStore");
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(ts);
            }
            KeyManagerFactory kmf = null;
            if (t.keyStore() != null) {
                if (t.keyStorePasswordFile() == null) throw new IOException(key + ".keyStorePasswordFile: needed with " + key + ".keyStore");
                char[] pw = Secrets.read(t.keyStorePasswordFile(), key + ".keyStorePasswordFile");
                KeyStore ks = load(t.keyStore(), pw, key + ".keyStore");
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, pw);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IOException(key + ": " + e.getMessage());
        }
    }

    private static KeyStore load(java.nio.file.Path file, char[] password, String key) throws IOException {
        try {
            return KeyStore.getInstance(file.toFile(), password);
        } catch (IOException | GeneralSecurityException e) {
            // Not the password in the message: the store's path and what went wrong.
            throw new IOException(key + ": cannot open " + file + " as a PKCS12 or JKS store (wrong password or not a key store): "
                    + e.getClass().getSimpleName());
        }
    }

    @Override
    public String toString() {
        return "MqttSecurity[tls=" + tls.isPresent() + ", username=" + username.isPresent() + ", password=" + password.isPresent() + "]";
    }
}
