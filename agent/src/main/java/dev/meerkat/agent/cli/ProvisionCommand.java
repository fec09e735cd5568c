package dev.meerkat.agent.cli;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigException;
import dev.meerkat.config.Json;
import dev.meerkat.config.Secrets;
import dev.meerkat.coordination.security.FleetAcls;
import dev.meerkat.coordination.security.ZkCredentials;
import dev.meerkat.coordination.security.ZooKeeperSecurity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meerkat provision --fleet F --device D}: the operator makes a device known to ZooKeeper
 * with the ACLs of the model (docs/security.md), and gets the device's bootstrap config and
 * credentials file. Idempotent: it creates what is missing, sets the ACL of what exists, and reuses
 * the secrets it wrote before.
 */
@Command(name = "provision", mixinStandardHelpOptions = true,
        description = {"Create a device's znodes with the ACLs that let it reach its own and nothing else, and write",
                "its bootstrap config and ZooKeeper credentials (operator). Safe to run again.",
                "The operator's identity comes from --config (zookeeper.tls client certificate and/or zookeeper.auth)."})
final class ProvisionCommand implements Callable<Integer> {
    private static final String NAME = "meerkat provision";

    @Option(names = "--config", paramLabel = "FILE", description = "The operator's bootstrap config; its zookeeper section is used (default: ${DEFAULT-VALUE}).")
    Path config = BootstrapConfig.DEFAULT_PATH;

    @Option(names = "--fleet", paramLabel = "F", required = true, description = "The device's fleet.")
    String fleet;

    @Option(names = "--device", paramLabel = "D", required = true, description = "The device id.")
    String device;

    @Option(names = "--device-cert", paramLabel = "PEM",
            description = "The device's client certificate: it then authenticates by it (x509) instead of a digest password of its own.")
    Path deviceCert;

    @Option(names = "--out", paramLabel = "DIR", description = "Where the secrets and the device's files go (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("meerkat-provision");

    @Option(names = "--mqtt-uri", paramLabel = "URI", description = "The broker for the device's config (default: the --config file's mqtt.uri).")
    String mqttUri;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        for (String[] n : new String[][] {{"--fleet", fleet}, {"--device", device}}) {
            if (!BootstrapConfig.NAME.matcher(n[1]).matches()) {
                System.err.println(NAME + ": " + n[0] + " \"" + n[1] + "\" is not a valid name (lower-case letters, digits, '.', '_', '-')");
                return Main.USAGE;
            }
        }
        BootstrapConfig.ZooKeeper zkConfig;
        ZooKeeperSecurity operator;
        try {
            zkConfig = BootstrapConfig.loadZooKeeper(config);
            if (mqttUri == null) mqttUri = BootstrapConfig.mqttUriOf(config).orElse(null);
            operator = ZooKeeperSecurity.of(zkConfig);
        } catch (ConfigException | IOException e) {
            System.err.println(NAME + ": " + e.getMessage());
            return Main.FAILED;
        }
        if (!operator.hasIdentity()) {
            System.err.println(NAME + ": the operator has no identity in " + config + ": ACLs need one. Give zookeeper.tls a client "
                    + "certificate (keyStore) or zookeeper.auth digest credentials (over TLS).");
            return Main.FAILED;
        }

        if (!operator.hasCertificate()) {
            System.err.println(NAME + ": warning: the operator has no client certificate. ZooKeeper shows digest ids only to "
                    + "administrators, so devices cannot name this operator in the ACLs of the znodes they create (members, locks): "
                    + "those will be readable by a ZooKeeper superuser only. See docs/security.md.");
        }
        // The secrets: the fleet's, shared by its devices, and the device's own unless it has a certificate.
        Path fleetDir = out.resolve(fleet), deviceDir = fleetDir.resolve(device);
        Id deviceId, fleetId;
        String fleetPassword, devicePassword = null;
        try {
            mkdirs(deviceDir);
            fleetPassword = secret(fleetDir.resolve("fleet.secret"));
            fleetId = FleetAcls.digest(FleetAcls.fleetUser(fleet), fleetPassword.toCharArray());
            if (deviceCert != null) {
                deviceId = FleetAcls.x509(certificate(deviceCert));
            } else {
                devicePassword = existingDevicePassword(deviceDir.resolve("zk.secret")).orElseGet(ProvisionCommand::newPassword);
                deviceId = FleetAcls.digest(FleetAcls.deviceUser(fleet, device), devicePassword.toCharArray());
            }
        } catch (IOException e) {
            System.err.println(NAME + ": " + e.getMessage());
            return Main.FAILED;
        }

        Map<String, String> changes = new LinkedHashMap<>();
        var connected = Bootstrap.connect(zkConfig, NAME);
        if (connected.isEmpty()) return Main.UNREACHABLE;
        try (CuratorFramework zk = connected.get()) {
            for (FleetAcls.Node node : FleetAcls.layout(zkConfig.root(), fleet, device, deviceId, fleetId)) {
                changes.put(node.path(), apply(zk, node.path(), node.acl()));
                if (node.subtree()) {
                    for (String child : descendants(zk, node.path())) changes.put(child, apply(zk, child, node.acl()));
                }
            }
            // /locks: every provisioned fleet may create lock znodes in it (its own entry put in, an
            // earlier one of the same fleet replaced); the lock znodes devices create carry their own ACLs.
            String locks = zkConfig.root() + "/locks";
            changes.put(locks, apply(zk, locks, lockAcl(zk, locks, fleetId)));
        } catch (KeeperException.NoAuthException e) {
            System.err.println(NAME + ": not authorised on " + e.getPath() + ": the operator identity of " + config
                    + " must own the Meerkat root (or be a ZooKeeper superuser)");
            return Main.FAILED;
        } catch (KeeperException.InvalidACLException e) {
            System.err.println(NAME + ": ZooKeeper refused the ACL of " + e.getPath() + ": the operator's session has no identity the "
                    + "servers accept (is the x509 or digest auth provider enabled on them?)");
            return Main.FAILED;
        }

        Path credentials = deviceDir.resolve("zk.secret");
        Path bootstrap = deviceDir.resolve("agent.yaml");
        StringBuilder creds = new StringBuilder("# ZooKeeper digest credentials of " + device + " in fleet " + fleet + " (meerkat provision)\n");
        if (devicePassword != null) creds.append(FleetAcls.deviceUser(fleet, device)).append(':').append(devicePassword).append('\n');
        creds.append(FleetAcls.fleetUser(fleet)).append(':').append(fleetPassword).append('\n');
        writeSecret(credentials, creds.toString());
        String yaml = bootstrapYaml(zkConfig);
        writeAtomically(bootstrap, yaml, "rw-r--r--");

        long created = changes.values().stream().filter("created"::equals).count();
        long updated = changes.values().stream().filter("acl set"::equals).count();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fleet", fleet);
            m.put("device", device);
            m.put("deviceIdentity", FleetAcls.describe(deviceId));
            m.put("fleetIdentity", FleetAcls.describe(fleetId));
            m.put("znodes", changes);
            m.put("created", created);
            m.put("aclSet", updated);
            m.put("bootstrapConfig", bootstrap.toString());
            m.put("credentialsFile", credentials.toString());
            System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(m));
        } else {
            System.out.printf("provisioned %s in fleet %s as %s: %d znode(s) created, %d ACL(s) set, %d unchanged%n", device, fleet,
                    FleetAcls.describe(deviceId), created, updated, changes.size() - created - updated);
            for (var e : changes.entrySet()) if (!"unchanged".equals(e.getValue())) System.out.println("  " + e.getValue() + "  " + e.getKey());
            System.out.println();
            System.out.println("On the gateway:");
            System.out.println("  install " + bootstrap + " as /etc/meerkat/agent.yaml");
            System.out.println("  install " + credentials + " as /etc/meerkat/zk.secret (owner meerkat, mode 600)");
            System.out.println("  install the ZooKeeper servers' CA certificate as /etc/meerkat/tls/zookeeper-ca.pem");
            if (deviceCert != null) System.out.println("  install the device's certificate and key as /etc/meerkat/tls/device.pem (owner meerkat, mode 600)");
            System.out.println();
            System.out.print(yaml);
        }
        return Main.OK;
    }

    /** Creates {@code path} with {@code acl}, or sets its ACL: "created", "acl set" or "unchanged". */
    private static String apply(CuratorFramework zk, String path, List<ACL> acl) throws Exception {
        if (zk.checkExists().forPath(path) == null) {
            try {
                zk.create().withACL(acl).forPath(path, new byte[0]);
                return "created";
            } catch (KeeperException.NodeExistsException raced) {
                // made meanwhile: set its ACL below
            }
        }
        List<ACL> before = zk.getACL().forPath(path);
        zk.setACL().withACL(acl).forPath(path);
        List<ACL> after = zk.getACL().forPath(path);
        return new java.util.HashSet<>(before).equals(new java.util.HashSet<>(after)) ? "unchanged" : "acl set";
    }

    private static List<String> descendants(CuratorFramework zk, String path) throws Exception {
        List<String> out = new ArrayList<>();
        try {
            for (String c : zk.getChildren().forPath(path)) {
                String child = path + "/" + c;
                out.add(child);
                out.addAll(descendants(zk, child));
            }
        } catch (KeeperException.NoNodeException gone) {
            // deleted meanwhile (a released lock)
        }
        return out;
    }

    /** The ACL of {@code /locks}: what it has, with this fleet's entry put in (replacing one of an earlier fleet secret). The operator reads it in full. */
    private static List<ACL> lockAcl(CuratorFramework zk, String locks, Id fleetId) throws Exception {
        List<ACL> acl = new ArrayList<>();
        if (zk.checkExists().forPath(locks) != null) {
            String user = fleetId.getId().substring(0, fleetId.getId().indexOf(':') + 1);
            for (ACL a : zk.getACL().forPath(locks)) {
                boolean sameFleet = "digest".equals(a.getId().getScheme()) && a.getId().getId().startsWith(user);
                boolean open = "world".equals(a.getId().getScheme());
                if (!sameFleet && !open) acl.add(a);
            }
        }
        if (acl.stream().noneMatch(a -> a.getPerms() == FleetAcls.ALL)) acl.addAll(0, FleetAcls.ownedBy(List.of(FleetAcls.OPERATOR)));
        acl.add(FleetAcls.locks(fleetId));
        return acl;
    }

    private String bootstrapYaml(BootstrapConfig.ZooKeeper zk) {
        StringBuilder y = new StringBuilder();
        y.append("# Bootstrap config of ").append(device).append(" in fleet ").append(fleet).append(", written by meerkat provision ")
                .append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append('\n');
        y.append("device:\n  id: ").append(device).append("\n  fleet: ").append(fleet).append('\n');
        y.append("zookeeper:\n  connect: ").append(zk.connect()).append("\n  root: ").append(zk.root())
                .append("\n  sessionTimeout: ").append(zk.sessionTimeout().toSeconds()).append("s\n");
        y.append("  tls:\n    trustStore: /etc/meerkat/tls/zookeeper-ca.pem\n");
        if (deviceCert != null) y.append("    keyStore: /etc/meerkat/tls/device.pem\n");
        y.append("  auth:\n    scheme: digest\n    credentialsFile: /etc/meerkat/zk.secret\n");
        y.append("mqtt:\n  uri: ").append(mqttUri == null ? "\"\"   # set the broker: ssl://HOST:8883" : mqttUri).append('\n');
        y.append("storage:\n  dir: /var/lib/meerkat\n");
        return y.toString();
    }

    private static X509Certificate certificate(Path pem) throws IOException {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException | java.security.GeneralSecurityException | ClassCastException e) {
            throw new IOException("--device-cert: cannot read a certificate from " + pem + " (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** The password in {@code file}, made now if the file does not exist. */
    private static String secret(Path file) throws IOException {
        if (Files.exists(file)) return new String(Secrets.read(file, file.toString())).strip();
        String pw = newPassword();
        writeSecret(file, pw + "\n");
        return pw;
    }

    private Optional<String> existingDevicePassword(Path credentials) throws IOException {
        if (!Files.exists(credentials)) return Optional.empty();
        return ZkCredentials.read(credentials).of(FleetAcls.deviceUser(fleet, device)).map(c -> new String(c.password()));
    }

    private static String newPassword() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static void mkdirs(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Path parent = dir.getParent();
        if (parent != null) Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwx------"));
    }

    private static void writeSecret(Path file, String content) throws IOException {
        writeAtomically(file, content, "rw-------");
    }

    private static void writeAtomically(Path file, String content, String perms) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(perms)));
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
