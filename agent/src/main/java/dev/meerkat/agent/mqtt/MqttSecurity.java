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
                char[] pw;
                if (t.keyStorePasswordFile() != null) {
                    pw = Secrets.read(t.keyStorePasswordFile(), key + ".keyStorePasswordFile");
                } else if (isPem(t.keyStore())) {
                    pw = new char[0]; // an unencrypted PEM key: the file itself is the secret
                } else {
                    throw new IOException(key + ".keyStorePasswordFile: needed with " + key + ".keyStore");
                }
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

    private static boolean isPem(java.nio.file.Path file) {
        return file.getFileName().toString().endsWith(".pem");
    }

    /**
     * A {@code .pem} file: its certificates (a trust store), or its certificate chain and its
     * unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}) in one file (a key store; the file
     * must then be owner-only, like any secret). Anything else: a PKCS12 or JKS store.
     */
    private static KeyStore load(java.nio.file.Path file, char[] password, String key) throws IOException {
        if (isPem(file)) return pem(file, password, key);
        try {
            return KeyStore.getInstance(file.toFile(), password);
        } catch (IOException | GeneralSecurityException e) {
            // Not the password in the message: the store's path and what went wrong.
            throw new IOException(key + ": cannot open " + file + " as a PKCS12 or JKS store (wrong password or not a key store): "
                    + e.getClass().getSimpleName());
        }
    }

    private static KeyStore pem(java.nio.file.Path file, char[] password, String key) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----").matcher(text);
        try {
            java.security.cert.CertificateFactory cf = java.security.cert.CertificateFactory.getInstance("X.509");
            java.util.List<java.security.cert.Certificate> certs = new java.util.ArrayList<>();
            java.security.PrivateKey privateKey = null;
            while (m.find()) {
                byte[] der = java.util.Base64.getMimeDecoder().decode(m.group(2));
                switch (m.group(1)) {
                    case "CERTIFICATE" -> certs.add(cf.generateCertificate(new java.io.ByteArrayInputStream(der)));
                    case "PRIVATE KEY" -> privateKey = privateKey(der, key);
                    default -> throw new IOException(key + ": " + file + " holds a \"" + m.group(1)
                            + "\" block; only CERTIFICATE and unencrypted PRIVATE KEY (PKCS#8) are read");
                }
            }
            if (certs.isEmpty()) throw new IOException(key + ": no certificate in " + file);
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            if (privateKey != null) {
                Secrets.read(file, key); // a private key: owner-only, like any secret
                ks.setKeyEntry("key", privateKey, password, certs.toArray(java.security.cert.Certificate[]::new));
            } else {
                for (int i = 0; i < certs.size(); i++) ks.setCertificateEntry("ca-" + i, certs.get(i));
            }
            return ks;
        } catch (GeneralSecurityException e) {
            throw new IOException(key + ": cannot read " + file + ": " + e.getClass().getSimpleName());
        }
    }

    private static java.security.PrivateKey privateKey(byte[] der, String key) throws IOException {
        var spec = new java.security.spec.PKCS8EncodedKeySpec(der);
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return java.security.KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException tryNext) {
                // not this algorithm
            }
        }
        throw new IOException(key + ": the private key is not an RSA, EC or Ed25519 PKCS#8 key");
    }

    @Override
    public String toString() {
        return "MqttSecurity[tls=" + tls.isPresent() + ", username=" + username.isPresent() + ", password=" + password.isPresent() + "]";
    }
}
