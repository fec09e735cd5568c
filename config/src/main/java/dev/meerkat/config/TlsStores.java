package dev.meerkat.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The key and trust stores a {@code tls} section of the bootstrap config names, for MQTT and
 * ZooKeeper alike: a {@code .pem} file (certificates; for a key store also an unencrypted PKCS#8
 * private key, and then the file is a secret), or a PKCS12 or JKS store with its password in a
 * file. Errors name the bootstrap key and the file, never a password.
 */
public final class TlsStores {
    private static final Pattern PEM_BLOCK = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private TlsStores() {}

    /** A store and the password it opened with. */
    public record Opened(KeyStore store, char[] password, String type) {}

    public static boolean isPem(Path file) {
        return file.getFileName().toString().endsWith(".pem");
    }

    /** The trust store of {@code tls} ({@code key} is its bootstrap key, {@code mqtt.tls}). */
    public static Opened trustStore(BootstrapConfig.Tls tls, String key) throws IOException {
        char[] pw = tls.trustStorePasswordFile() == null ? new char[0]
                : Secrets.read(tls.trustStorePasswordFile(), key + ".trustStorePasswordFile");
        return open(tls.trustStore(), pw, key + ".trustStore");
    }

    /** The key store of {@code tls}: its password file is needed unless it is a {@code .pem} file. */
    public static Opened keyStore(BootstrapConfig.Tls tls, String key) throws IOException {
        char[] pw;
        if (tls.keyStorePasswordFile() != null) {
            pw = Secrets.read(tls.keyStorePasswordFile(), key + ".keyStorePasswordFile");
        } else if (isPem(tls.keyStore())) {
            pw = new char[0]; // an unencrypted PEM key: the file itself is the secret
        } else {
            throw new IOException(key + ".keyStorePasswordFile: needed with " + key + ".keyStore");
        }
        return open(tls.keyStore(), pw, key + ".keyStore");
    }

    /** The certificate of the key store's (first) key entry: who this client says it is. */
    public static X509Certificate clientCertificate(Opened keyStore, String key) throws IOException {
        try {
            for (String alias : Collections.list(keyStore.store().aliases())) {
                if (keyStore.store().isKeyEntry(alias) && keyStore.store().getCertificate(alias) instanceof X509Certificate c) return c;
            }
        } catch (GeneralSecurityException e) {
            throw new IOException(key + ": " + e.getClass().getSimpleName());
        }
        throw new IOException(key + ": holds no private key with its certificate");
    }

    private static Opened open(Path file, char[] password, String key) throws IOException {
        if (isPem(file)) return new Opened(pem(file, password, key), password, "PEM");
        if (!Files.isReadable(file)) {
            try (var in = Files.newInputStream(file)) {
                // readable after all (a race): go on
            } catch (IOException e) {
                throw Secrets.unreadable(file, key, e);
            }
        }
        try {
            KeyStore ks = KeyStore.getInstance(file.toFile(), password);
            return new Opened(ks, password, ks.getType().toUpperCase(java.util.Locale.ROOT));
        } catch (IOException | GeneralSecurityException e) {
            // Not the password in the message: the store's path and what went wrong.
            throw new IOException(key + ": cannot open " + file + " as a PKCS12 or JKS store (wrong password or not a key store): "
                    + e.getClass().getSimpleName());
        }
    }

    private static KeyStore pem(Path file, char[] password, String key) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw Secrets.unreadable(file, key, e);
        }
        Matcher m = PEM_BLOCK.matcher(text);
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<Certificate> certs = new ArrayList<>();
            PrivateKey privateKey = null;
            while (m.find()) {
                byte[] der = Base64.getMimeDecoder().decode(m.group(2));
                switch (m.group(1)) {
                    case "CERTIFICATE" -> certs.add(cf.generateCertificate(new ByteArrayInputStream(der)));
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
                ks.setKeyEntry("key", privateKey, password, certs.toArray(Certificate[]::new));
            } else {
                for (int i = 0; i < certs.size(); i++) ks.setCertificateEntry("ca-" + i, certs.get(i));
            }
            return ks;
        } catch (GeneralSecurityException e) {
            throw new IOException(key + ": cannot read " + file + ": " + e.getClass().getSimpleName());
        }
    }

    private static PrivateKey privateKey(byte[] der, String key) throws IOException {
        var spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException tryNext) {
                // not this algorithm
            }
        }
        throw new IOException(key + ": the private key is not an RSA, EC or Ed25519 PKCS#8 key");
    }
}
