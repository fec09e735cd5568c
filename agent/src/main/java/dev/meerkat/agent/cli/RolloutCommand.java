package dev.meerkat.agent.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigError;
import dev.meerkat.config.ConfigException;
import dev.meerkat.config.Json;
import dev.meerkat.config.RolloutDocument;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.rollout.RolloutState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code meerkat rollout create|status|pause|resume|abort} (SPEC §7, §9; operator). The operator
 * writes the rollout document, {@code /fleets/F/rollouts/R}; the fleet's leader does the rest and
 * writes its progress in {@code /fleets/F/rollouts/R/state}. Pause, resume and abort set the
 * document's {@code control} with a versioned write; the leader acts on it within a second or two.
 */
@Command(name = "rollout", mixinStandardHelpOptions = true,
        description = "Firmware rollouts of a fleet (operator; docs/rollouts.md).",
        subcommands = {RolloutCommand.Create.class, RolloutCommand.Status.class, RolloutCommand.Pause.class,
                RolloutCommand.Resume.class, RolloutCommand.Abort.class})
final class RolloutCommand {
    /** A connected operator client and the fleet's paths, or an exit code. */
    private record Session(CuratorFramework zk, FleetPaths paths) implements AutoCloseable {
        @Override
        public void close() {
            zk.close();
        }
    }

    private abstract static class Sub implements Callable<Integer> {
        @Mixin
        FleetOptions common;

        /** The subcommand's name, as its {@code @Command} gives it. */
        final String name() {
            return getClass().getAnnotation(Command.class).name();
        }

        abstract int run(Session s) throws Exception;

        /** Checks names before connecting; an error message means a usage error. */
        String checkArguments() {
            return null;
        }

        @Override
        public Integer call() throws Exception {
            String cmd = "meerkat rollout " + name();
            FleetOptions.Resolved resolved = common.resolve(cmd);
            if (resolved.zookeeper() == null) return resolved.exitCode();
            BootstrapConfig.ZooKeeper zkConfig = resolved.zookeeper();
            String bad = checkArguments();
            if (bad != null) return usage(cmd, bad);
            var connected = Bootstrap.connect(zkConfig, cmd);
            if (connected.isEmpty()) return Main.UNREACHABLE;
            try (Session s = new Session(connected.get(), new FleetPaths(zkConfig.root(), common.fleet, "-"))) {
                return run(s);
            } catch (KeeperException.NoAuthException e) {
                System.err.println(cmd + ": not allowed: " + e.getPath() + " (run it with the operator's identity)");
                return Main.FAILED;
            } catch (KeeperException.ConnectionLossException | KeeperException.SessionExpiredException e) {
                System.err.println(cmd + ": ZooKeeper went away: " + e.getMessage());
                return Main.UNREACHABLE;
            }
        }

        static int usage(String cmd, String message) {
            System.err.println(cmd + ": " + message);
            return Main.USAGE;
        }

        static String checkId(String id) {
            return RolloutDocument.ID.matcher(id).matches() ? null
                    : "\"" + id + "\" is not a valid rollout id (lower-case letters, digits, '.', '_' or '-', at most 63)";
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Validate a rollout document, then create the rollout: /fleets/F/rollouts/R and its state.",
                    "The fleet's leader starts it within seconds; rollouts run one at a time, oldest first."})
    static final class Create extends Sub {
        @Parameters(index = "0", paramLabel = "R", description = "The rollout id.")
        String id;

        @Parameters(index = "1", paramLabel = "FILE", description = "The rollout document (JSON, SPEC §7).")
        Path file;

        @Override
        String checkArguments() {
            return checkId(id);
        }

        @Override
        int run(Session s) throws Exception {
            byte[] data;
            try {
                data = Files.readAllBytes(file);
            } catch (IOException e) {
                System.err.println("meerkat rollout create: cannot read " + file + ": " + e.getMessage());
                return Main.FAILED;
            }
            RolloutDocument doc;
            try {
                doc = RolloutDocument.parse(data, file.toString());
            } catch (ConfigException e) {
                System.err.println("meerkat rollout create: " + file + " is rejected, nothing written:");
                for (ConfigError err : e.errors()) System.err.println("  " + err.path() + ": " + err.message());
                return Main.FAILED;
            }
            String path = s.paths().rollout(id);
            String rollouts = s.paths().rollouts();
            if (s.zk().checkExists().forPath(rollouts) == null) {
                try {
                    s.zk().create().creatingParentsIfNeeded().withACL(ConfigPush.inheritedAcl(s.zk(), rollouts), true).forPath(rollouts);
                } catch (KeeperException.NodeExistsException e) {
                    // made meanwhile
                }
            }
            List<ACL> docAcl = s.zk().getACL().forPath(rollouts);
            try {
                s.zk().transaction().forOperations(
                        s.zk().transactionOp().create().withACL(docAcl).forPath(path, Json.write(doc.json())),
                        s.zk().transactionOp().create().withACL(stateAcl(docAcl)).forPath(s.paths().rolloutState(id),
                                Json.write(RolloutState.created())));
            } catch (KeeperException.NodeExistsException e) {
                System.err.println("meerkat rollout create: rollout " + id + " exists already in fleet " + common.fleet
                        + "; pick another id (meerkat rollout status lists them)");
                return Main.FAILED;
            }
            if (common.json) {
                System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(Map.of("created", s.paths().relative(path))));
            } else {
                System.out.println("created rollout " + id + " in fleet " + common.fleet + ": firmware " + doc.firmware() + ", "
                        + doc.waves().size() + " wave(s), installer " + doc.installer() + "; the fleet's leader starts it");
            }
            return Main.OK;
        }

        /** The state: the rollouts' ACL, with write added for those who may read (the fleet: its leader writes it). */
        private static List<ACL> stateAcl(List<ACL> docAcl) {
            List<ACL> out = new ArrayList<>();
            for (ACL a : docAcl) {
                int perms = a.getPerms();
                if ((perms & ZooDefs.Perms.READ) != 0) perms |= ZooDefs.Perms.WRITE;
                out.add(new ACL(perms, a.getId()));
            }
            return out;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {"The fleet's rollouts; with R, that rollout's waves and each device's state and reason."})
    static final class Status extends Sub {
        @Parameters(index = "0", arity = "0..1", paramLabel = "R", description = "A rollout id.")
        String id;

        @Override
        String checkArguments() {
            return id == null ? null : checkId(id);
        }

        @Override
        int run(Session s) throws Exception {
            List<String> ids;
            try {
                ids = new ArrayList<>(s.zk().getChildren().forPath(s.paths().rollouts()));
            } catch (KeeperException.NoNodeException e) {
                ids = new ArrayList<>();
            }
            if (id != null && !ids.contains(id)) {
                System.err.println("meerkat rollout status: no rollout " + id + " in fleet " + common.fleet
                        + (ids.isEmpty() ? "" : "; there are: " + String.join(", ", ids.stream().sorted().toList())));
                return Main.FAILED;
            }
            List<Map<String, Object>> all = new ArrayList<>();
            for (String r : id == null ? ids.stream().sorted().toList() : List.of(id)) {
                Optional<Map<String, Object>> one = read(s, r);
                one.ifPresent(all::add);
            }
            if (id != null && all.isEmpty()) {
                System.err.println("meerkat rollout status: rollout " + id + " in fleet " + common.fleet + " was deleted meanwhile");
                return Main.FAILED;
            }
            if (common.json) {
                Object out = id == null ? Map.of("fleet", common.fleet, "rollouts", all) : all.get(0);
                System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(out));
                return Main.OK;
            }
            if (all.isEmpty()) {
                System.out.println("no rollouts in fleet " + common.fleet);
                return Main.OK;
            }
            if (id == null) {
                System.out.printf("%-20s %-12s %-10s %-8s %-8s %s%n", "ROLLOUT", "FIRMWARE", "STATUS", "WAVE", "FAILED", "REASON");
                for (Map<String, Object> r : all) {
                    System.out.printf("%-20s %-12s %-10s %-8s %-8s %s%n", r.get("id"), r.get("firmware"), r.get("status"),
                            r.get("wave"), r.get("failures"), Optional.ofNullable(r.get("reason")).orElse(""));
                }
                return Main.OK;
            }
            Map<String, Object> r = all.get(0);
            System.out.println("rollout " + id + " in fleet " + common.fleet + ": firmware " + r.get("firmware") + ", " + r.get("status")
                    + (r.get("reason") == null ? "" : " (" + r.get("reason") + ")"));
            System.out.println("control " + r.get("control") + ", wave " + r.get("wave") + ", failures " + r.get("failures")
                    + ", leader " + r.get("leader") + " (epoch " + r.get("epoch") + "), updated " + r.get("updatedAt"));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> waves = (List<Map<String, Object>>) r.get("waves");
            for (Map<String, Object> w : waves) {
                System.out.println("wave " + w.get("wave") + " (" + w.get("goal") + " in all, started " + w.get("startedAt")
                        + (w.get("finishedAt") == null ? "" : ", finished " + w.get("finishedAt")) + "):");
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> devices = (List<Map<String, Object>>) w.get("devices");
                if (devices.isEmpty()) System.out.println("  (no device)");
                for (Map<String, Object> d : devices) {
                    System.out.printf("  %-24s %-12s %s%n", d.get("device"), d.get("state"), Optional.ofNullable(d.get("reason")).orElse(""));
                }
            }
            return Main.OK;
        }

        /**
         * One rollout as the listing shows it; empty when its document is gone (deleted meanwhile).
         * Every device of the fleet may write a rollout's state (its ACL): a state that is not what
         * the leader writes is shown as that rollout's problem (status {@code unreadable}, with the
         * reason), never an exception, and a rollout whose state no leader has written yet is
         * {@code pending}.
         */
        static Optional<Map<String, Object>> read(Session s, String r) throws Exception {
            byte[] docBytes, stateBytes;
            try {
                docBytes = s.zk().getData().forPath(s.paths().rollout(r));
            } catch (KeeperException.NoNodeException e) {
                return Optional.empty();
            }
            try {
                stateBytes = s.zk().getData().forPath(s.paths().rolloutState(r));
            } catch (KeeperException.NoNodeException e) {
                stateBytes = null;
            }
            return Optional.of(RolloutDescription.describe(r, docBytes, stateBytes));
        }

    }

    /** pause, resume, abort: a versioned write of the document's control. */
    private abstract static class Control extends Sub {
        @Parameters(index = "0", paramLabel = "R", description = "The rollout id.")
        String id;

        /** The {@code control} the document gets, and what is printed once it has it ({@code %1$s}: the rollout id). */
        private final String control, done;

        Control(String control, String done) {
            this.control = control;
            this.done = done;
        }

        @Override
        String checkArguments() {
            return checkId(id);
        }

        @Override
        int run(Session s) throws Exception {
            String cmd = "meerkat rollout " + name();
            String path = s.paths().rollout(id);
            for (int attempt = 0; attempt < 5; attempt++) {
                Stat stat = new Stat();
                byte[] data;
                try {
                    data = s.zk().getData().storingStatIn(stat).forPath(path);
                } catch (KeeperException.NoNodeException e) {
                    System.err.println(cmd + ": no rollout " + id + " in fleet " + common.fleet);
                    return Main.FAILED;
                }
                byte[] st = s.zk().getData().forPath(s.paths().rolloutState(id));
                RolloutState state = RolloutState.read(st);
                if (state.isFinal()) {
                    System.err.println(cmd + ": rollout " + id + " is " + state.status() + " already; nothing to " + name());
                    return Main.FAILED;
                }
                ObjectNode doc = (ObjectNode) Json.mapper().readTree(data);
                doc.put("control", control);
                try {
                    s.zk().setData().withVersion(stat.getVersion()).forPath(path, Json.write(doc));
                } catch (KeeperException.BadVersionException e) {
                    continue; // changed meanwhile: read again
                }
                if (common.json) {
                    System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(Map.of("rollout", id, "control", control)));
                } else {
                    System.out.println(String.format(done, id));
                }
                return Main.OK;
            }
            System.err.println(cmd + ": the rollout document keeps changing; try again");
            return Main.FAILED;
        }

    }

    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = "Hold a rollout: no new wave starts; devices already updating finish.")
    static final class Pause extends Control {
        Pause() {
            super("pause", "rollout %1$s pauses: no new wave starts (meerkat rollout status %1$s shows it)");
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = "Go on with a paused rollout (paused by you, or by maxFailures: the failures so far are then accepted).")
    static final class Resume extends Control {
        Resume() {
            super("run", "rollout %1$s resumes");
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true,
            description = "End a rollout: no more targets are written; devices already updating finish.")
    static final class Abort extends Control {
        Abort() {
            super("abort", "rollout %1$s is aborted: no more devices get it");
        }
    }
}
