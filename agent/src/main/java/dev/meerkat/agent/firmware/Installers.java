package dev.meerkat.agent.firmware;

import dev.meerkat.config.Durations;
import dev.meerkat.config.Json;
import dev.meerkat.coordination.rollout.FirmwareReport.State;
import dev.meerkat.coordination.rollout.FirmwareTarget;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The two installers of a verified artifact (docs/rollouts.md). Each returns why it could not
 * install (reported as the target's failure), or null when it did; what follows (a restart into
 * the new version, or the health check) is the updater's.
 */
final class Installers {
    static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(30);

    private Installers() {}

    /**
     * {@code package}: the artifact unpacked beside the running version in the launcher's versions
     * directory and made current, marked pending until the new version finds itself healthy.
     */
    static String installPackage(Optional<Versions> versions, FirmwareTarget t, Path artifact) throws IOException {
        if (versions.isEmpty()) {
            return "the package installer needs the launcher's versions directory (systemd's StateDirectory, or MEERKAT_VERSIONS_DIR)";
        }
        Versions v = versions.get();
        v.unpack(artifact, t.firmware());
        v.switchTo(t.firmware(), Json.write(new FirmwareUpdater.Mark(t.rollout(), t.firmware(), State.PENDING.json(), t.healthTimeout())));
        return null;
    }

    /**
     * {@code command}: the bootstrap config's {@code firmware.command} run with {@code {file}},
     * {@code {firmware}} and {@code {rollout}} filled in, its output in {@code log}; it must exit 0
     * within {@link #COMMAND_TIMEOUT}.
     */
    static String runCommand(List<String> command, Path log, FirmwareTarget t, Path artifact) throws IOException, InterruptedException {
        if (command.isEmpty()) return "the command installer needs firmware.command in the bootstrap config";
        List<String> argv = command.stream().map(a -> a.replace("{file}", artifact.toString())
                .replace("{firmware}", t.firmware()).replace("{rollout}", t.rollout())).toList();
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            return "the installer " + argv.get(0) + " did not finish within " + Durations.format(COMMAND_TIMEOUT);
        }
        if (p.exitValue() != 0) {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            String lastLine = lines.isEmpty() ? "" : ": " + lines.get(lines.size() - 1).strip();
            return "the installer " + argv.get(0) + " exited " + p.exitValue() + lastLine;
        }
        return null;
    }
}
