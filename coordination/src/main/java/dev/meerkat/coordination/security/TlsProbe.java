package dev.meerkat.coordination.security;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Says in plain words why a TLS connection to a ZooKeeper server fails, which the ZooKeeper client
 * itself only logs as a closed socket: the server's certificate is not trusted or does not name the
 * host, or the server refused this client's certificate. It makes the handshake with the same key
 * and trust stores as the client and then waits briefly: a server that refuses a client certificate
 * says so with an alert right after the handshake (TLS 1.3), one that accepts it waits for the
 * client to speak.
 */
public final class TlsProbe {
    private static final int CONNECT_MS = 3_000;
    private static final int ALERT_WAIT_MS = 1_500;

    private TlsProbe() {}

    public enum Outcome { ACCEPTED, UNREACHABLE, SERVER_NOT_TRUSTED, REFUSED_CLIENT, OTHER }

    /** One server's answer; {@code message} is for a person and holds no secret. */
    public record Result(String server, Outcome outcome, String message) {
        public boolean tlsProblem() {
            return outcome == Outcome.SERVER_NOT_TRUSTED || outcome == Outcome.REFUSED_CLIENT || outcome == Outcome.OTHER;
        }
    }

    /** Probes every {@code host:port} of {@code connect}. */
    public static List<Result> probe(String connect, SSLContext context) {
        List<Result> out = new ArrayList<>();
        for (String server : connect.split(",")) out.add(probeOne(server.strip(), context));
        return out;
    }

    /** Why TLS with the servers of {@code connect} fails, if it does: the first server's TLS problem. */
    public static java.util.Optional<String> problem(String connect, SSLContext context) {
        return probe(connect, context).stream().filter(Result::tlsProblem).map(Result::message).findFirst();
    }

    static Result probeOne(String server, SSLContext context) {
        int colon = server.lastIndexOf(':');
        String host = colon > 0 ? server.substring(0, colon) : server;
        int port = colon > 0 ? Integer.parseInt(server.substring(colon + 1)) : 2181;
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(host, port), CONNECT_MS);
            try (SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, false)) {
                SSLParameters p = s.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS"); // as ZooKeeper's client: the certificate must name the host
                s.setSSLParameters(p);
                s.setSoTimeout(ALERT_WAIT_MS);
                s.startHandshake();
                try {
                    if (s.getInputStream().read() < 0) {
                        return new Result(server, Outcome.REFUSED_CLIENT, server + " closed the connection after the TLS handshake: "
                                + "it does not accept this client's certificate (or its absence); check zookeeper.tls.keyStore");
                    }
                } catch (SocketTimeoutException waiting) {
                    // it waits for the client to speak: accepted
                }
                return new Result(server, Outcome.ACCEPTED, server + " accepts this client's TLS");
            }
        } catch (SSLException e) {
            return classify(server, host, e);
        } catch (IOException e) {
            return new Result(server, Outcome.UNREACHABLE, server + " cannot be reached: " + e.getMessage());
        }
    }

    private static Result classify(String server, String host, SSLException e) {
        String all = chain(e).toLowerCase(Locale.ROOT);
        if (has(e, CertPathValidatorException.class) || all.contains("pkix path") || all.contains("unable to find valid certification path")) {
            return new Result(server, Outcome.SERVER_NOT_TRUSTED, "the certificate of " + server
                    + " is not signed by a CA in zookeeper.tls.trustStore (" + e.getMessage() + ")");
        }
        if (all.contains("no subject alternative") || all.contains("no name matching")) {
            return new Result(server, Outcome.SERVER_NOT_TRUSTED, "the certificate of " + server + " does not name " + host
                    + " (" + e.getMessage() + "); connect by a name the certificate holds");
        }
        if (all.contains("bad_certificate") || all.contains("certificate_unknown") || all.contains("unknown_ca")
                || all.contains("certificate_required") || all.contains("access_denied") || all.contains("decrypt_error")) {
            return new Result(server, Outcome.REFUSED_CLIENT, server + " refused this client's certificate (" + e.getMessage()
                    + "): it is not signed by a CA the server trusts, or none was given; check zookeeper.tls.keyStore");
        }
        if (has(e, CertificateException.class)) {
            return new Result(server, Outcome.SERVER_NOT_TRUSTED, "the certificate of " + server + " is not accepted (" + e.getMessage() + ")");
        }
        return new Result(server, Outcome.OTHER, "TLS with " + server + " failed: " + e.getMessage()
                + " (is it a TLS port? is zookeeper.connect the secureClientPort?)");
    }

    private static boolean has(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) if (type.isInstance(c)) return true;
        return false;
    }

    private static String chain(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) sb.append(c).append(" | ");
        return sb.toString();
    }
}
