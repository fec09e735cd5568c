package dev.meerkat.agent.cli;

import picocli.CommandLine.Command;

/** {@code meerkat config validate|show|push} (SPEC §9). */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "Validate, show and push config documents.",
        subcommands = {ConfigValidate.class, ConfigShow.class, ConfigPush.class})
final class ConfigCommand {}
