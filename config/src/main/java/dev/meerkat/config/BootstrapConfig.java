package dev.meerkat.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The bootstrap config (SPEC §2): who this gateway is and where its servers are. The only local
 * file an installer writes; everything else comes from ZooKeeper.
 */
public record BootstrapConfig(Device device, ZooKeeper zookeeper, Mqtt mqtt, Path storageDir, Path adminSocket, Firmware firmware,
                              Optional<Metrics> metrics) {

    public static final Path DEFAULT_PATH = Path.of("/etc/meerkat/agent.yaml");
    /** Device and fleet names: {@code [a-z0-9][a-z0-9._-]{0,62}}. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    static final String NAME_RULE = "lower-case letters, digits, '.', '_' or '-', at most 63, starting with a letter or digit";

    public record Device(String id, String fleet) {}

    /** TLS material, by file; reading the files is the connection's business. */
    public record Tls(Path keyStore, Path keyStorePasswordFile, Path trustStore, Path trustStorePasswordFile) {}

    public record Auth(String scheme, Path credentialsFile) {}

    public record ZooKeeper(String connect, String root, Duration sessionTimeout, Optional<Tls> tls, Optional<Auth> auth) {}

    /**
     * Firmware updates (SPEC §7): the fleet's Ed25519 public key (PEM) every artifact must be signed
     * with, and for the {@code command} installer the updater to run, as an argument list in which
     * {@code {file}}, {@code {firmware}} and {@code {rollout}} are replaced.
     */
    public record Firmware(Optional<Path> publicKey, List<String> command) {
        public static final Firmware NONE = new Firmware(Optional.empty(), List.of());
    }

    /** The configuration as before firmware settings existed (tools and the sandbox). */
    public BootstrapConfig(Device device, ZooKeeper zookeeper, Mqtt mqtt, Path storageDir, Path adminSocket) {
        this(device, zookeeper, mqtt, storageDir, adminSocket, Firmware.NONE, Optional.empty());
    }

    /**
     * The agent's metrics (off when the section is absent): {@code listen}, an endpoint
     * {@code http://HOST:PORT/metrics} ({@code host} null when there is none), and {@code textfile},
     * a file for node_exporter's textfile collector rewritten every {@code textfileInterval}.
     */
    public record Metrics(String host, int port, Optional<Path> textfile, Duration textfileInterval) {
        public Metrics(String host, int port) {
            this(host, port, Optional.empty(), Duration.ofSeconds(15));
        }

        public boolean listens() {
            return host != null;
        }

        /** {@code HOST:PORT} or {@code [V6]:PORT} as {@code metrics.listen} takes it (and the fleet exporter's {@code --listen}); empty when it does not parse. */
        public static Optional<Metrics> listenAt(String listen) {
            java.util.regex.Matcher at = LISTEN.matcher(listen);
            int port = at.matches() ? Integer.parseInt(at.group(3)) : -1;
            if (port < 1 || port > 65535) return Optional.empty();
            return Optional.of(new Metrics(at.group(1) != null ? at.group(1) : at.group(2), port));
        }

        /** {@code HOST:PORT}, as the config writes it. */
        @Override
        public String toString() {
            return (host != null && host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    public record Mqtt(URI uri, String clientId, Optional<Path> usernameFile, Optional<Path> passwordFile, Optional<Tls> tls) {}

    /** Reads a {@code .yaml}, {@code .yml} or {@code .json} file; every problem is in the exception. */
    public static BootstrapConfig load(Path file) throws ConfigException {
        return parse(readTree(file), file.toString(), file.toAbsolutePath().getParent());
    }

    /**
     * Only the {@code zookeeper} section, for operator commands run from any machine: the other
     * sections may be missing and are not checked.
     */
    public static ZooKeeper loadZooKeeper(Path file) throws ConfigException {
        List<ConfigError> errors = new ArrayList<>();
        Fields root = Fields.root(readTree(file), file.toString(), errors);
        ZooKeeper zk = zookeeper(root.object("zookeeper"), file.toAbsolutePath().getParent());
        if (!errors.isEmpty()) throw new ConfigException(errors);
        return zk;
    }

    /** The file's {@code device.fleet}, if it names one: the fleet operator commands default to. */
    public static Optional<String> fleetOf(Path file) throws ConfigException {
        JsonNode fleet = readTree(file).path("device").path("fleet");
        return fleet.isTextual() ? Optional.of(fleet.asText()) : Optional.empty();
    }

    /** The file's {@code mqtt.uri} as written, if any: the broker {@code meerkat provision} puts in a device's config. */
    public static Optional<String> mqttUriOf(Path file) throws ConfigException {
        JsonNode uri = readTree(file).path("mqtt").path("uri");
        return uri.isTextual() ? Optional.of(uri.asText()) : Optional.empty();
    }

    private static JsonNode readTree(Path file) throws ConfigException {
        String source = file.toString();
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean yaml = name.endsWith(".yaml") || name.endsWith(".yml");
        if (!yaml && !name.endsWith(".json")) {
            throw new ConfigException(List.of(new ConfigError(source, "$", "must end in .yaml, .yml or .json")));
        }
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(List.of(new ConfigError(source, "$",
                    "does not exist; write one (see etc/agent.yaml in the distribution) or pass --config FILE")));
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigError(source, "$", "cannot be read: " + e)));
        }
        List<ConfigError> errors = new ArrayList<>();
        Optional<JsonNode> tree = yaml ? Json.parseYaml(data, source, errors) : Json.parse(data, source, errors);
        if (tree.isEmpty()) throw new ConfigException(errors);
        return tree.get();
    }

    /** Checks a parsed document; relative file paths are taken relative to {@code base}. */
    public static BootstrapConfig parse(JsonNode tree, String source, Path base) throws ConfigException {
        List<ConfigError> errors = new ArrayList<>();
        Fields root = Fields.root(tree, source, errors);

        Fields dev = root.object("device");
        String id = dev.string("id", null, NAME, NAME_RULE);
        if (id == null && !dev.has("id")) id = hostnameAsId(dev);
        String fleet = dev.has("fleet") ? dev.string("fleet", null, NAME, NAME_RULE) : dev.required("fleet");
        dev.done();

        ZooKeeper zookeeper = zookeeper(root.object("zookeeper"), base);

        Fields mq = root.object("mqtt");
        URI uri = null;
        String uriText = mq.required("uri");
        if (uriText != null) {
            try {
                uri = new URI(uriText);
                if (uri.getRawUserInfo() != null) {
                    // Never echoed: the user info may be a password.
                    mq.error("uri", "must not hold a user name or password, got \"" + masked(uriText)
                            + "\"; put them in mqtt.usernameFile and mqtt.passwordFile (files readable by the agent's user only)");
                    uri = null;
                } else if (!"tcp".equals(uri.getScheme()) && !"ssl".equals(uri.getScheme()) || uri.getHost() == null) {
                    mq.error("uri", "must be tcp://HOST:PORT or ssl://HOST:PORT, got \"" + masked(uriText) + "\"");
                    uri = null;
                }
            } catch (URISyntaxException e) {
                mq.error("uri", "is not a URI, got \"" + masked(uriText) + "\"");
            }
        }
        String clientId = mq.string("clientId", id, Pattern.compile("[A-Za-z0-9._-]{1,64}"),
                "letters, digits, '.', '_' or '-', at most 64");
        Optional<Path> userFile = Optional.ofNullable(file(mq, "usernameFile", base, false));
        Optional<Path> passFile = Optional.ofNullable(file(mq, "passwordFile", base, false));
        Optional<Tls> mqTls = tls(mq, "tls", base);
        if (uri != null && "tcp".equals(uri.getScheme())) {
            if (mqTls.isPresent()) mq.error("tls", "needs an ssl:// uri, the uri is tcp://");
            // A password over plain TCP would cross the network in clear.
            if (passFile.isPresent()) mq.error("passwordFile", "needs an ssl:// uri: a password must not cross the network in clear");
        }
        mq.done();

        Fields storage = root.object("storage");
        Path dir = Optional.ofNullable(file(storage, "dir", base, false)).orElse(Path.of("/var/lib/meerkat"));
        storage.done();
        Fields admin = root.object("admin");
        Path socket = Optional.ofNullable(file(admin, "socket", base, false)).orElse(Path.of("/run/meerkat/admin.sock"));
        admin.done();
        Fields fw = root.object("firmware");
        Optional<Path> publicKey = Optional.ofNullable(file(fw, "publicKey", base, false));
        List<String> command = new ArrayList<>();
        JsonNode cmd = fw.raw("command");
        if (cmd != null) {
            if (!cmd.isArray() || cmd.isEmpty()) {
                fw.error("command", "must be a non-empty list: the program and its arguments, like [\"/usr/bin/rauc\", \"install\", \"{file}\"]");
            } else {
                for (int i = 0; i < cmd.size(); i++) {
                    if (!cmd.get(i).isTextual() || cmd.get(i).asText().isEmpty()) {
                        errors.add(new ConfigError(source, fw.pathOf("command") + "[" + i + "]", "must be a non-empty string"));
                    } else {
                        command.add(cmd.get(i).asText());
                    }
                }
                if (!command.isEmpty() && !Path.of(command.get(0)).isAbsolute()) {
                    errors.add(new ConfigError(source, fw.pathOf("command") + "[0]", "must be an absolute path, got \"" + command.get(0) + "\""));
                }
            }
        }
        fw.done();
        Optional<Metrics> metrics = Optional.empty();
        if (root.has("metrics")) {
            Fields m = root.object("metrics");
            String listen = m.string("listen", null);
            Metrics at = listen == null ? new Metrics(null, 0) : listen(m, listen);
            Path textfile = file(m, "textfile", base, false);
            if (textfile != null && !textfile.getFileName().toString().endsWith(".prom")) {
                m.error("textfile", "must end in .prom (node_exporter's textfile collector reads only those), got \"" + textfile + "\"");
            }
            Duration every = m.duration("textfileInterval", Duration.ofSeconds(15), Duration.ofSeconds(1), Duration.ofHours(1));
            if (listen == null && textfile == null) m.error("listen", "is required, or textfile: the section asks for metrics and says not where");
            if (at != null) metrics = Optional.of(new Metrics(at.host(), at.port(), Optional.ofNullable(textfile), every));
            m.done();
        }
        root.done();

        if (!errors.isEmpty()) throw new ConfigException(errors);
        return new BootstrapConfig(new Device(id, fleet),
                zookeeper,
                new Mqtt(uri, clientId, userFile, passFile, mqTls), dir, socket, new Firmware(publicKey, List.copyOf(command)), metrics);
    }

    private static final Pattern LISTEN = Pattern.compile("(?:\\[([0-9A-Fa-f:.]+)]|([A-Za-z0-9.-]+)):([0-9]{1,5})");

    /** {@code HOST:PORT} or {@code [V6]:PORT}; null (with the error) when it does not parse. */
    private static Metrics listen(Fields m, String listen) {
        Optional<Metrics> at = Metrics.listenAt(listen);
        if (at.isEmpty()) {
            m.error("listen", "must be HOST:PORT with a port from 1 to 65535, like 127.0.0.1:9464 (0.0.0.0:9464 to be scraped "
                    + "from the network), got \"" + listen + "\"");
        }
        return at.orElse(null);
    }

    private static ZooKeeper zookeeper(Fields zk, Path base) {
        String connect = zk.required("connect");
        if (connect != null && !Pattern.compile("[^\\s,/]+(,[^\\s,/]+)*").matcher(connect).matches()) {
            zk.error("connect", "must be host:port pairs separated by commas (no chroot; use zookeeper.root), got \"" + connect + "\"");
        }
        String zkRoot = zk.string("root", "/meerkat", Pattern.compile("(/[A-Za-z0-9._-]+)+"),
                "an absolute znode path like /meerkat");
        Duration sessionTimeout = zk.duration("sessionTimeout", Duration.ofSeconds(15), Duration.ofSeconds(1), Duration.ofMinutes(5));
        Optional<Tls> zkTls = tls(zk, "tls", base);
        Optional<Auth> auth = Optional.empty();
        if (zk.has("auth")) {
            Fields a = zk.object("auth");
            String scheme = a.oneOf("scheme", "digest", List.of("digest"));
            Path cred = file(a, "credentialsFile", base, true);
            a.done();
            auth = Optional.of(new Auth(scheme, cred));
            // ZooKeeper's digest scheme sends the password itself to the server.
            if (zkTls.isEmpty()) zk.error("auth", "needs zookeeper.tls: the digest scheme sends the password to the server, in clear without TLS");
        } else {
            zk.raw("auth");
        }
        zk.done();
        return new ZooKeeper(connect, zkRoot, sessionTimeout, zkTls, auth);
    }

    /**
     * A URI as it may be printed: whatever stands between {@code //} and an {@code @} before the
     * host (a user name, a password) replaced by {@code ***}.
     */
    public static String masked(String uri) {
        if (uri == null) return null;
        int start = uri.indexOf("//");
        if (start < 0) return uri;
        int end = uri.indexOf('/', start + 2);
        String authority = end < 0 ? uri.substring(start + 2) : uri.substring(start + 2, end);
        int at = authority.lastIndexOf('@');
        if (at < 0) return uri;
        return uri.substring(0, start + 2) + "***" + uri.substring(start + 2 + at);
    }

    /**
     * This machine's host name: the kernel's, which needs no name service (a gateway whose
     * {@code /etc/hosts} does not list its own name, or a hardened unit, cannot resolve it), else
     * the resolver's, else {@code $HOSTNAME}; "" when none is known.
     */
    public static String hostname() {
        try {
            String h = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/hostname")).strip();
            if (!h.isEmpty()) return h;
        } catch (IOException | RuntimeException notLinux) {
            // below
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return System.getenv().getOrDefault("HOSTNAME", "");
        }
    }

    private static String hostnameAsId(Fields dev) {
        String host = hostname();
        String id = host.toLowerCase(Locale.ROOT);
        int dot = id.indexOf('.');
        if (dot > 0) id = id.substring(0, dot);
        if (!NAME.matcher(id).matches()) {
            dev.error("id", "is not set and the hostname \"" + host + "\" is not a valid id (" + NAME_RULE + "); set device.id");
            return null;
        }
        return id;
    }

    private static Optional<Tls> tls(Fields parent, String key, Path base) {
        if (!parent.has(key)) {
            parent.raw(key);
            return Optional.empty();
        }
        Fields t = parent.object(key);
        Tls tls = new Tls(file(t, "keyStore", base, false), file(t, "keyStorePasswordFile", base, false),
                file(t, "trustStore", base, false), file(t, "trustStorePasswordFile", base, false));
        t.done();
        return Optional.of(tls);
    }

    private static Path file(Fields f, String key, Path base, boolean required) {
        String s = required ? f.required(key) : f.string(key, null);
        if (s == null) return null;
        if (s.isBlank() || s.indexOf('\0') >= 0) {
            f.error(key, "must be a file path");
            return null;
        }
        Path p = Path.of(s);
        return p.isAbsolute() || base == null ? p : base.resolve(p).normalize();
    }

    /** The effective config's MQTT client id: the configured one, else the device id. */
    public String mqttClientId() {
        return mqtt.clientId() != null ? mqtt.clientId() : device.id();
    }
}
