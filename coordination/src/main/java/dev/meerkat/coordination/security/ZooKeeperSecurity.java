package dev.meerkat.coordination.security;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.TlsStores;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.curator.framework.AuthInfo;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.Id;

/**
 * What the bootstrap config's {@code zookeeper.tls} and {@code zookeeper.auth} ask of the
 * connection: the client settings for TLS (Netty, key and trust stores), the digest credentials to
 * present, and the ids they make this client. Every file is read now, so a bad one stops the start
 * with a message naming it; no secret goes into a message or {@link #toString()}.
 */
public final class ZooKeeperSecurity {
    public static final ZooKeeperSecurity NONE = new ZooKeeperSecurity(null, List.of(), List.of(), Optional.empty(), null);

    private final ZKClientConfig clientConfig;
    private final List<AuthInfo> auth;
    private final List<ZkCredentials.Credential> credentials;
    private final Optional<Id> certificateId;
    private final SSLContext sslContext;

    private ZooKeeperSecurity(ZKClientConfig clientConfig, List<AuthInfo> auth, List<ZkCredentials.Credential> credentials,
            Optional<Id> certificateId, SSLContext sslContext) {
        this.clientConfig = clientConfig;
        this.auth = auth;
        this.credentials = credentials;
        this.certificateId = certificateId;
        this.sslContext = sslContext;
    }

    public static ZooKeeperSecurity of(BootstrapConfig.ZooKeeper zk) throws IOException {
        if (zk.tls().isEmpty() && zk.auth().isEmpty()) return NONE;
        ZKClientConfig config = null;
        SSLContext ssl = null;
        Optional<Id> certId = Optional.empty();
        if (zk.tls().isPresent()) {
            BootstrapConfig.Tls t = zk.tls().get();
            config = new ZKClientConfig();
            config.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
            config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNetty");
            config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
            TrustManagerFactory tmf = null;
            KeyManagerFactory kmf = null;
            try {
                if (t.trustStore() != null) {
                    TlsStores.Opened ts = TlsStores.trustStore(t, "zookeeper.tls");
                    config.setProperty("zookeeper.ssl.trustStore.location", t.trustStore().toString());
                    config.setProperty("zookeeper.ssl.trustStore.password", new String(ts.password()));
                    config.setProperty("zookeeper.ssl.trustStore.type", ts.type());
                    tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                    tmf.init(ts.store());
                }
                if (t.keyStore() != null) {
                    TlsStores.Opened ks = TlsStores.keyStore(t, "zookeeper.tls");
                    config.setProperty("zookeeper.ssl.keyStore.location", t.keyStore().toString());
                    config.setProperty("zookeeper.ssl.keyStore.password", new String(ks.password()));
                    config.setProperty("zookeeper.ssl.keyStore.type", ks.type());
                    certId = Optional.of(FleetAcls.x509(TlsStores.clientCertificate(ks, "zookeeper.tls.keyStore")));
                    kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                    kmf.init(ks.store(), ks.password());
                }
                ssl = SSLContext.getInstance("TLS");
                ssl.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            } catch (GeneralSecurityException e) {
                throw new IOException("zookeeper.tls: " + e.getClass().getSimpleName());
            }
        }
        List<AuthInfo> auth = new ArrayList<>();
        List<ZkCredentials.Credential> creds = List.of();
        if (zk.auth().isPresent()) {
            creds = ZkCredentials.read(zk.auth().get().credentialsFile()).lines();
            for (ZkCredentials.Credential c : creds) auth.add(new SecretAuthInfo("digest", c.authBytes()));
        }
        return new ZooKeeperSecurity(config, List.copyOf(auth), creds, certId, ssl);
    }

    /** The client settings for TLS, if TLS is on. */
    public Optional<ZKClientConfig> clientConfig() {
        return Optional.ofNullable(clientConfig);
    }

    /** The digest credentials to present after each connect. */
    public List<AuthInfo> auth() {
        return auth;
    }

    /** The TLS settings as a JDK context, for diagnosing a refused handshake; empty without TLS. */
    public Optional<SSLContext> sslContext() {
        return Optional.ofNullable(sslContext);
    }

    /** Whether this client presents a client certificate (an {@code x509} id). */
    public boolean hasCertificate() {
        return certificateId.isPresent();
    }

    /** Whether this client proves who it is at all (a client certificate or digest credentials). */
    public boolean hasIdentity() {
        return certificateId.isPresent() || !credentials.isEmpty();
    }

    /**
     * Device {@code device} of {@code fleet}'s own id: its digest user {@code F/D} if the credentials
     * hold it, else its client certificate's subject.
     */
    public Optional<Id> deviceId(String fleet, String device) {
        return digestId(FleetAcls.deviceUser(fleet, device)).or(() -> certificateId);
    }

    /** Fleet {@code fleet}'s id, if the credentials hold its line ({@code F/*}). */
    public Optional<Id> fleetId(String fleet) {
        return digestId(FleetAcls.fleetUser(fleet));
    }

    private Optional<Id> digestId(String user) {
        return credentials.stream().filter(c -> c.user().equals(user)).findFirst().map(c -> FleetAcls.digest(user, c.password()));
    }

    @Override
    public String toString() {
        return "ZooKeeperSecurity[tls=" + (clientConfig != null) + ", certificate=" + certificateId.map(Id::getId).orElse("none")
                + ", users=" + credentials.stream().map(ZkCredentials.Credential::user).toList() + "]";
    }

    /** Curator's AuthInfo prints its bytes; this one does not. */
    private static final class SecretAuthInfo extends AuthInfo {
        SecretAuthInfo(String scheme, byte[] auth) {
            super(scheme, auth);
        }

        @Override
        public String toString() {
            return "AuthInfo{scheme='" + getScheme() + "'}";
        }
    }
}
