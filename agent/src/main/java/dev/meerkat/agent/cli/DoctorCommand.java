package dev.meerkat.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.agent.admin.AdminClient;
import dev.meerkat.agent.firmware.FirmwareUpdater;
import dev.meerkat.agent.mqtt.MqttSecurity;
import dev.meerkat.agent.mqtt.PahoTransport;
import dev.meerkat.agent.sampling.BusLocks;
import dev.meerkat.agent.state.LastGoodConfig;
import dev.meerkat.config.AgentSettings;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.Bus;
import dev.meerkat.config.ConfigError;
import dev.meerkat.config.ConfigException;
import dev.meerkat.config.ConfigLayers;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.config.Json;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.coordination.security.FleetAcls;
import dev.meerkat.coordination.security.TlsProbe;
import dev.meerkat.coordination.security.ZooKeeperSecurity;
import dev.meerkat.drivers.Drivers;
import dev.meerkat.drivers.bus.SysfsOneWire;
import dev.meerkat.drivers.pi4j.Pi4jBuses;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meerkat doctor}: each check ok, warn or fail, with what to do. It runs with or without the
 * agent; it needs no more rights than the agent has.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Checks this gateway: bootstrap config, Java, ZooKeeper, MQTT, buses, disk, clock, the agent.",
                "Exit code 0 when nothing fails (warnings allowed), 1 when a check fails, 3 when the only failures are servers that do not answer."})
final class DoctorCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "Bootstrap config (default: ${DEFAULT-VALUE}).")
    Path config = BootstrapConfig.DEFAULT_PATH;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Option(names = "--dev", hidden = true, description = "Where the device nodes are (tests).")
    Path dev = Path.of("/dev");

    @Option(names = "--w1", hidden = true, description = "Where the 1-Wire slaves are (tests).")
    Path w1 = SysfsOneWire.DEVICES;

    enum Level { OK, WARN, FAIL }

    record Check(String name, Level level, String detail, String hint, boolean unreachable) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("check", name);
            m.put("result", level.name().toLowerCase(java.util.Locale.ROOT));
            m.put("detail", detail);
            if (hint != null) m.put("hint", hint);
            return m;
        }
    }

    private final List<Check> checks = new ArrayList<>();

    private void ok(String name, String detail) {
        checks.add(new Check(name, Level.OK, detail, null, false));
    }

    private void warn(String name, String detail, String hint) {
        checks.add(new Check(name, Level.WARN, detail, hint, false));
    }

    private void fail(String name, String detail, String hint) {
        checks.add(new Check(name, Level.FAIL, detail, hint, false));
    }

    private void unreachable(String name, String detail, String hint) {
        checks.add(new Check(name, Level.FAIL, detail, hint, true));
    }

    @Override
    public Integer call() throws Exception {
        checkJava();
        BootstrapConfig boot = null;
        try {
            boot = BootstrapConfig.load(config);
            ok("bootstrap config", config + ": device " + boot.device().id() + " of fleet " + boot.device().fleet());
        } catch (ConfigException e) {
            List<String> errs = e.errors().stream().map(ConfigError::toString).toList();
            fail("bootstrap config", String.join("; ", errs), "fix " + config + " (meerkat config validate checks config documents the same way)");
        }
        checkClock();
        if (boot != null) {
            Optional<EffectiveConfig> effective = lastGood(boot);
            checkZooKeeper(boot);
            checkMqtt(boot);
            effective.ifPresent(c -> checkBuses(c));
            checkDisk(boot, effective);
            checkFirmwareKey(boot);
            checkAgent(boot);
        }
        return report();
    }

    private void checkJava() {
        int feature = Runtime.version().feature();
        if (feature >= 21) ok("java", "Java " + Runtime.version() + " at " + System.getProperty("java.home"));
        else fail("java", "Java " + Runtime.version() + " is too old", "install openjdk-21-jre-headless");
    }

    private void checkClock() {
        Instant now = Instant.now();
        if (now.isBefore(Instant.parse("2025-01-01T00:00:00Z"))) {
            fail("clock", "the clock says " + now, "the clock is not set: enable time sync (timedatectl set-ntp true) or fit an RTC; readings' ts are wrong until it is");
            return;
        }
        // Wall time against the monotonic clock over a short while: a jump shows a clock being stepped.
        long w0 = System.currentTimeMillis(), m0 = System.nanoTime();
        try {
            Thread.sleep(300);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long drift = (System.currentTimeMillis() - w0) - (System.nanoTime() - m0) / 1_000_000;
        if (Math.abs(drift) > 100) warn("clock", "the wall clock moved " + drift + " ms against the monotonic clock in 300 ms", "is the clock being stepped? check timedatectl timesync-status");
        else ok("clock", now.toString());
    }

    private Optional<EffectiveConfig> lastGood(BootstrapConfig boot) {
        LastGoodConfig store = new LastGoodConfig(boot.storageDir());
        try {
            Optional<LastGoodConfig.Saved> saved = store.load();
            if (saved.isEmpty()) {
                warn("config on disk", "no last good config at " + store.file(), "the agent writes it once it has read its config from ZooKeeper");
                return Optional.empty();
            }
            ConfigLayers.Result r = ConfigLayers.build(saved.get().fleet(), saved.get().device(), Drivers.load());
            ok("config on disk", store.file() + ", saved " + saved.get().savedAt() + ", " + r.config().sensors().size() + " sensor(s)");
            return Optional.of(r.config());
        } catch (IOException | RuntimeException e) {
            warn("config on disk", store.file() + " cannot be read: " + e.getMessage(), "run doctor as the agent's user (sudo -u meerkat meerkat doctor)");
            return Optional.empty();
        }
    }

    private void checkZooKeeper(BootstrapConfig boot) throws InterruptedException {
        BootstrapConfig.ZooKeeper zk = boot.zookeeper();
        ZooKeeperSecurity security;
        CuratorFramework c;
        try {
            security = ZooKeeperSecurity.of(zk);
            FleetPaths own = new FleetPaths(zk.root(), boot.device().fleet(), boot.device().id());
            c = ZooKeeperClients.forDevice(zk, own, security);
        } catch (IOException | RuntimeException e) {
            fail("zookeeper", e.getMessage(), null);
            return;
        }
        try (c) {
            c.start();
            if (!c.blockUntilConnected(10, TimeUnit.SECONDS)) {
                Optional<String> tls = security.sslContext().flatMap(ssl -> TlsProbe.problem(zk.connect(), ssl));
                if (tls.isPresent()) {
                    fail("zookeeper tls", tls.get(), "fix zookeeper.tls in " + config + " (or the server's certificate)");
                    return;
                }
                unreachable("zookeeper", "no answer from " + zk.connect() + " within 10 s",
                        "check the servers are up and that this gateway reaches their client port (from this gateway: timeout 3 bash -c '</dev/tcp/HOST/2181' && echo open)");
                return;
            }
            int granted;
            try {
                granted = c.getZookeeperClient().getZooKeeper().getSessionTimeout();
            } catch (Exception e) {
                granted = -1;
            }
            if (granted > 0 && granted != zk.sessionTimeout().toMillis()) {
                warn("zookeeper session", "the ensemble granted " + granted + " ms, not the " + zk.sessionTimeout().toMillis() + " ms asked for",
                        "the servers' minSessionTimeout/maxSessionTimeout (2 to 20 ticks by default) clamp it; ask for a value within them");
            } else {
                ok("zookeeper session", "connected to " + zk.connect() + ", session timeout " + granted + " ms");
            }
            FleetPaths paths = new FleetPaths(zk.root(), boot.device().fleet(), boot.device().id());
            try {
                if (c.checkExists().forPath(paths.fleetConfig()) == null) {
                    warn("zookeeper znodes", "no " + paths.fleetConfig() + ": fleet " + boot.device().fleet() + " has no config",
                            "an operator writes it: meerkat config push --fleet " + boot.device().fleet() + " ...");
                } else {
                    c.getChildren().forPath(paths.fleetConfig());
                    if (c.checkExists().forPath(paths.deviceConfig()) != null) c.getChildren().forPath(paths.deviceConfig());
                    ok("zookeeper znodes", "the fleet's and the device's config can be read");
                }
                checkAcl(c, security, paths);
            } catch (org.apache.zookeeper.KeeperException.NoAuthException e) {
                fail("zookeeper znodes", "not authorised to read " + e.getPath(), "check the ACLs of the fleet's znodes for this gateway's identity");
            } catch (Exception e) {
                fail("zookeeper znodes", e.toString(), null);
            }
        }
    }

    /** With an identity: the device's own status is writable by it (read from the ACL, nothing written). */
    private void checkAcl(CuratorFramework c, ZooKeeperSecurity security, FleetPaths paths) throws Exception {
        if (!security.hasIdentity()) return;
        java.util.Optional<org.apache.zookeeper.data.Id> me = security.deviceId(paths.fleet(), paths.device());
        if (me.isEmpty() || security.fleetId(paths.fleet()).isEmpty()) {
            fail("zookeeper identity", "the credentials do not say who device " + paths.device() + " of fleet " + paths.fleet() + " is",
                    "use the zk.secret that meerkat provision --fleet " + paths.fleet() + " --device " + paths.device() + " wrote");
            return;
        }
        if (c.checkExists().forPath(paths.status()) == null) {
            fail("zookeeper acl", "no " + paths.status() + ": this device is not provisioned",
                    "an operator runs: meerkat provision --fleet " + paths.fleet() + " --device " + paths.device());
            return;
        }
        boolean writes = c.getACL().forPath(paths.status()).stream()
                .anyMatch(a -> FleetAcls.sameIdentity(a.getId(), me.get()) && (a.getPerms() & org.apache.zookeeper.ZooDefs.Perms.WRITE) != 0);
        if (writes) {
            ok("zookeeper acl", "authorised as " + FleetAcls.describe(me.get()) + " to write its status");
        } else {
            fail("zookeeper acl", "the ACL of " + paths.status() + " does not let " + FleetAcls.describe(me.get()) + " write it",
                    "an operator runs: meerkat provision --fleet " + paths.fleet() + " --device " + paths.device());
        }
        // The election's candidate slots (docs/scaling.md): without them every agent of the fleet stands.
        org.apache.zookeeper.data.Id fleetId = security.fleetId(paths.fleet()).get();
        boolean slots = c.checkExists().forPath(paths.candidates()) != null && c.getACL().forPath(paths.candidates()).stream()
                .anyMatch(a -> FleetAcls.sameIdentity(a.getId(), fleetId) && (a.getPerms() & org.apache.zookeeper.ZooDefs.Perms.CREATE) != 0);
        if (slots) {
            ok("zookeeper election", "the fleet's agents may take candidate slots under " + paths.candidates());
        } else {
            warn("zookeeper election", "no candidate slots this gateway may take under " + paths.candidates()
                    + ": every agent of the fleet stands in its election, which a large fleet's ensemble pays for at every reconnect",
                    "an operator runs: meerkat provision --fleet " + paths.fleet() + " --device " + paths.device());
        }
    }

    private void checkMqtt(BootstrapConfig boot) {
        try {
            MqttSecurity security = MqttSecurity.of(boot.mqtt());
            PahoTransport t = new PahoTransport(boot.mqtt().uri(), boot.mqttClientId() + "-doctor", 30, security);
            try {
                t.connect(null, Duration.ofSeconds(10));
                ok("mqtt", "connected to " + BootstrapConfig.masked(boot.mqtt().uri().toString()) + " and accepted");
                t.disconnect(Duration.ofSeconds(2));
            } finally {
                t.close();
            }
        } catch (IOException e) {
            fail("mqtt", e.getMessage(), "fix the file the message names: secret files and stores belong to the agent's user (meerkat),"
                    + " readable by it only (sudo chown meerkat: FILE && sudo chmod 600 FILE)");
        } catch (Exception e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage();
            boolean refused = m.contains("not authori") || m.contains("bad user") || m.contains("identifier rejected");
            if (refused) fail("mqtt", m, "the broker refused this gateway's credentials or certificate");
            else unreachable("mqtt", m, "check the broker is up and that this gateway reaches " + BootstrapConfig.masked(boot.mqtt().uri().toString()));
        }
    }

    private void checkBuses(EffectiveConfig config) {
        TreeSet<String> nodes = new TreeSet<>();
        boolean oneWire = false, gpio = false;
        for (SensorConfig s : config.sensors().values()) {
            switch (s.bus()) {
                case Bus.I2c i -> nodes.add("i2c-" + i.bus());
                case Bus.Gpio g -> gpio = true;
                case Bus.OneWire o -> oneWire = true;
                default -> { }
            }
        }
        if (gpio) {
            // The chip the agent will really use, decided as the agent decides it (Pi4jBuses): a
            // Raspberry Pi, the chip labelled pinctrl-*, its node usable by this user.
            try (Pi4jBuses buses = new Pi4jBuses(dev)) {
                String chip = buses.checkGpio();
                ok("bus " + chip, dev.resolve(chip) + " (the header's chip) present and usable by " + System.getProperty("user.name"));
            } catch (dev.meerkat.drivers.bus.DriverException e) {
                fail("bus gpio", e.getMessage(), "GPIO sensors need a Raspberry Pi whose header chip this user may use (docs/decisions.md, \"GPIO on Raspberry Pis only\")");
            }
        }
        String user = System.getProperty("user.name");
        for (String node : nodes) {
            Path p = dev.resolve(node);
            String group = node.startsWith("i2c") ? "i2c" : "gpio";
            if (!Files.exists(p)) {
                fail("bus " + node, p + " is missing", node.startsWith("i2c")
                        ? "enable I2C (dtparam=i2c_arm=on in /boot/firmware/config.txt, or raspi-config nonint do_i2c 0) and reboot"
                        : "this kernel has no GPIO character device");
            } else if (!Files.isReadable(p) || !Files.isWritable(p)) {
                fail("bus " + node, "user " + user + " cannot use " + p, "sudo usermod -aG " + group + " " + user + ", then log in again or restart the agent");
            } else {
                ok("bus " + node, p + " present and usable by " + user);
            }
        }
        if (oneWire) {
            if (Files.isDirectory(w1)) ok("bus w1", w1 + " present");
            else fail("bus w1", w1 + " is missing", "add dtoverlay=w1-gpio to /boot/firmware/config.txt and reboot");
        }
        if (nodes.isEmpty() && !oneWire && !gpio) ok("buses", "no sensor of the config on disk uses a bus");
        // The lock file of each bus, shared with other processes: one this user may not open (left by a
        // run as root) fails every read on that bus.
        Path lockDir = BusLocks.defaultDir(Path.of("/nonexistent"));
        TreeSet<String> keys = new TreeSet<>();
        for (SensorConfig s : config.sensors().values()) {
            String key = BusLocks.key(s.bus());
            if (key != null) keys.add(key);
        }
        for (String key : keys) {
            Path lock = BusLocks.file(lockDir, key);
            if (Files.exists(lock) && !Files.isWritable(lock)) {
                fail("bus lock " + key, BusLocks.unusable(lock), "sudo rm " + lock);
            }
        }
    }

    /** Rollouts verify every artifact with the fleet's key: without a usable one, each would fail at verifying. */
    private void checkFirmwareKey(BootstrapConfig boot) {
        var key = boot.firmware().publicKey();
        if (key.isEmpty()) {
            warn("firmware key", "no firmware.publicKey: every rollout to this gateway will fail at verifying",
                    "add firmware.publicKey (the fleet's Ed25519 public key, PEM) to " + config + " (docs/rollouts.md)");
            return;
        }
        var problem = FirmwareUpdater.keyProblem(key.get());
        if (problem.isPresent()) fail("firmware key", problem.get(), "fix firmware.publicKey in " + config);
        else ok("firmware key", "Ed25519 public key " + key.get());
    }

    private void checkDisk(BootstrapConfig boot, Optional<EffectiveConfig> config) {
        Path dir = boot.storageDir();
        Path probe = dir;
        while (probe != null && !Files.exists(probe)) probe = probe.getParent();
        if (probe == null) {
            fail("disk", "no directory of " + dir + " exists", null);
            return;
        }
        try {
            long free = Files.getFileStore(probe).getUsableSpace();
            long want = config.map(c -> c.agent().buffer().maxBytes()).orElse(AgentSettings.DEFAULTS.buffer().maxBytes());
            String detail = String.format("%s: %d MiB free, the buffer may take %d MiB", dir, free >> 20, want >> 20);
            if (free < 16L << 20) fail("disk", detail, "free space on " + probe + ": the agent cannot buffer readings");
            else if (free < want) warn("disk", detail, "free space, or lower buffer.maxBytes in the fleet's agent config");
            else ok("disk", detail);
            if (Files.exists(dir) && !Files.isWritable(dir)) {
                warn("disk", dir + " is not writable by " + System.getProperty("user.name"), "run doctor as the agent's user (sudo -u meerkat meerkat doctor)");
            }
        } catch (IOException e) {
            fail("disk", dir + ": " + e.getMessage(), null);
        }
    }

    private void checkAgent(BootstrapConfig boot) {
        try {
            JsonNode s = AdminClient.call(boot.adminSocket(), "status");
            List<String> problems = StatusCommand.problems(s);
            if (problems.isEmpty()) ok("agent", "running and healthy (" + boot.adminSocket() + ")");
            else warn("agent", "running, not healthy: " + String.join("; ", problems), "meerkat status shows the details");
        } catch (IOException e) {
            warn("agent", "no agent answers on " + boot.adminSocket(), "systemctl status meerkat; journalctl -u meerkat -p warning");
        }
    }

    private int report() throws IOException {
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("checks", checks.stream().map(Check::json).toList());
            m.put("result", overall().name().toLowerCase(java.util.Locale.ROOT));
            System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(m));
        } else {
            for (Check c : checks) {
                System.out.printf("%-5s %-18s %s%n", c.level(), c.name(), c.detail());
                if (c.hint() != null && c.level() != Level.OK) System.out.printf("%-5s %-18s -> %s%n", "", "", c.hint());
            }
        }
        boolean failed = checks.stream().anyMatch(c -> c.level() == Level.FAIL && !c.unreachable());
        boolean unreachable = checks.stream().anyMatch(c -> c.level() == Level.FAIL && c.unreachable());
        return failed ? Main.FAILED : unreachable ? Main.UNREACHABLE : Main.OK;
    }

    private Level overall() {
        return checks.stream().map(Check::level).max(Enum::compareTo).orElse(Level.OK);
    }
}
