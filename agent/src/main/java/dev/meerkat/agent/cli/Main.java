package dev.meerkat.agent.cli;

import dev.meerkat.agent.AgentVersion;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code meerkat} command (SPEC §9). Exit codes: 0 ok, 1 failed, 2 usage, 3 unreachable. */
@Command(name = "meerkat", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "An agent for IoT gateways, coordinated through Apache ZooKeeper.",
        subcommands = {RunCommand.class, StatusCommand.class, DoctorCommand.class, SensorsCommand.class, ConfigCommand.class, FleetCommand.class, RolloutCommand.class, ProvisionCommand.class, CommandLine.HelpCommand.class})
public final class Main {
    public static final int OK = 0, FAILED = 1, USAGE = 2, UNREACHABLE = 3;
    /** {@code meerkat run} stopped to be started again (a firmware update): the unit's RestartForceExitStatus. */
    public static final int RESTART = 75;

    public static void main(String[] args) {
        var run = RunCommand.plain(args);
        if (run.isPresent()) System.exit(RunCommand.run(run.get())); // the service: without picocli
        System.exit(Commands.execute(args));
    }

    /** The command tree, in a class of its own so that a plain {@code run} never loads picocli. */
    static final class Commands {
        private Commands() {}

        static int execute(String[] args) {
            dev.meerkat.agent.logging.Logging.setUpForCommand(); // `run` and `sandbox` set up their own
            return commandLine().execute(args);
        }

        /** With the subcommands other jars add (the sandbox, when installed). */
        static CommandLine commandLine() {
            CommandLine cl = new CommandLine(new Main());
            // A defect's last resort: the command's whole name and what went wrong, one line; the stack
            // trace only when asked for (MEERKAT_DEBUG=1).
            cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
                cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": failed: " + e
                        + (System.getenv("MEERKAT_DEBUG") == null ? " (MEERKAT_DEBUG=1 shows where)" : ""));
                if (System.getenv("MEERKAT_DEBUG") != null) e.printStackTrace(cmd.getErr());
                cmd.getErr().flush();
                return FAILED;
            });
            for (MeerkatCommand extra : ServiceLoader.load(MeerkatCommand.class, Main.class.getClassLoader())) {
                cl.addSubcommand(extra.name(), extra.command());
            }
            return cl;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"meerkat " + AgentVersion.get(),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
