package dev.meerkat.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meerkat.agent.admin.AdminClient;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigError;
import dev.meerkat.config.ConfigException;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.coordination.security.TlsProbe;
import dev.meerkat.coordination.security.ZooKeeperSecurity;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;

/**
 * What the commands share: loading the bootstrap config (every error printed), an operator's
 * connection to ZooKeeper, and a question to the running agent through its admin socket.
 */
final class Bootstrap {
    private static final int CONNECT_SECONDS = 15;

    private Bootstrap() {}

    static Optional<BootstrapConfig> load(Path file, String command) {
        try {
            return Optional.of(BootstrapConfig.load(file));
        } catch (ConfigException e) {
            // Under systemd each line is an error in the journal (journalctl -p err shows it), not info.
            String p = dev.meerkat.agent.logging.Logging.journalPrefix(3);
            System.err.println(p + command + ": the bootstrap config is not valid:");
            for (ConfigError err : e.errors()) System.err.println(p + "  " + err);
            return Optional.empty();
        }
    }

    /**
     * What a failed start says: the message of Meerkat's own errors (they name the key and the
     * file), and for the JDK's file errors what happened to which file as whom.
     */
    static String explain(Exception e) {
        if (e instanceof java.nio.file.AccessDeniedException a) {
            return "permission denied: " + a.getFile() + " (the agent runs as user " + System.getProperty("user.name") + ")";
        }
        if (e instanceof java.nio.file.FileSystemException f) return f.getClass().getSimpleName() + ": " + f.getMessage();
        if (e instanceof IOException && e.getMessage() != null) return e.getMessage();
        return e.toString();
    }

    /**
     * A started client connected to the ensemble of {@code zk}; empty, after saying so, when it does
     * not answer within 15 s (the command then exits {@link Main#UNREACHABLE}). The caller closes it.
     */
    static Optional<CuratorFramework> connect(BootstrapConfig.ZooKeeper zk, String command) throws InterruptedException {
        ZooKeeperSecurity security;
        CuratorFramework client;
        try {
            security = ZooKeeperSecurity.of(zk);
            client = ZooKeeperClients.create(zk, security);
        } catch (IOException e) {
            System.err.println(command + ": " + e.getMessage());
            return Optional.empty();
        }
        client.start();
        if (client.blockUntilConnected(CONNECT_SECONDS, TimeUnit.SECONDS)) return Optional.of(client);
        client.close();
        String why = security.sslContext().flatMap(ssl -> TlsProbe.problem(zk.connect(), ssl))
                .orElse("ZooKeeper does not answer at " + zk.connect());
        System.err.println(command + ": " + why);
        return Optional.empty();
    }

    /** The running agent's answer, or the exit code of the command when there is none. */
    record Answer(JsonNode json, int code) {}

    /** Asks the agent of bootstrap file {@code file} through its admin socket; says why when it cannot. */
    static Answer ask(Path file, String command, String request) {
        Optional<BootstrapConfig> boot = load(file, command);
        if (boot.isEmpty()) return new Answer(null, Main.FAILED);
        Path socket = boot.get().adminSocket();
        try {
            return new Answer(AdminClient.call(socket, request), Main.OK);
        } catch (java.nio.file.AccessDeniedException e) {
            System.err.println(command + ": permission denied on the agent's admin socket " + socket + " (user "
                    + System.getProperty("user.name") + "); run it as the agent's user or root: sudo -u meerkat " + command);
            return new Answer(null, Main.UNREACHABLE);
        } catch (IOException e) {
            System.err.println(command + ": no agent answers on " + socket + "; is it running? (meerkat run --config " + file + ")");
            return new Answer(null, Main.UNREACHABLE);
        }
    }
}
