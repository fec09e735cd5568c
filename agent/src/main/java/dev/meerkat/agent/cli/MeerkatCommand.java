package dev.meerkat.agent.cli;

/**
 * A subcommand that lives in another jar, found with {@link java.util.ServiceLoader}: the sandbox is
 * one, so that its embedded servers never sit in the gateway's runtime jars.
 */
public interface MeerkatCommand {
    String name();

    /** A picocli command object ({@code @Command}-annotated). */
    Object command();
}
