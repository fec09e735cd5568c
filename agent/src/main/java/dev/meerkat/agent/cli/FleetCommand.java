package dev.meerkat.agent.cli;

import picocli.CommandLine.Command;

/** {@code meerkat fleet list} (SPEC §9) and {@code meerkat fleet exporter} (operator). */
@Command(name = "fleet", mixinStandardHelpOptions = true,
        description = "The gateways of a fleet (operator).",
        subcommands = {FleetList.class, FleetExporterCommand.class})
final class FleetCommand {}
