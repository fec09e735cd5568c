package dev.meerkat.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Secret files named by the bootstrap config (passwords, key store passwords). A secret file must
 * be readable by its owner only; its content never goes into a log line, a status or an exception
 * message, only its path.
 */
public final class Secrets {
    private static final Set<PosixFilePermission> OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private Secrets() {}

    /**
     * The error for a file named at {@code key} that could not be read: a file this process may not
     * read says so, with the user it runs as and the commands that fix it (a secret made by root
     * with {@code chmod 600} is the usual case); anything else names the file and the error's kind.
     */
    public static IOException unreadable(Path file, String key, IOException e) {
        boolean denied = e instanceof java.nio.file.AccessDeniedException
                || (e instanceof java.io.FileNotFoundException && String.valueOf(e.getMessage()).contains("Permission denied"));
        if (!denied) {
            if (e instanceof java.nio.file.NoSuchFileException) return new IOException(key + ": " + file + " does not exist");
            return new IOException(key + ": cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
        }
        String user = System.getProperty("user.name");
        return new IOException(key + ": " + file + " cannot be read by user " + user + " (permission denied); the file must belong to the user"
                + " the agent runs as and be readable by it only: sudo chown " + user + ": " + file + " && sudo chmod 600 " + file);
    }

    /**
     * The file's content without its trailing line break. Refused when the group or others have any
     * permission on it.
     *
     * @param key the bootstrap key that names it, for the message ({@code mqtt.passwordFile})
     */
    public static char[] read(Path file, String key) throws IOException {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException notPosix) {
            perms = Set.of();
        } catch (IOException e) {
            throw unreadable(file, key, e);
        }
        Set<PosixFilePermission> wide = EnumSet.noneOf(PosixFilePermission.class);
        wide.addAll(perms);
        wide.retainAll(OTHERS);
        if (!wide.isEmpty()) {
            throw new IOException(key + ": " + file + " is open to its group or others (" + PosixFilePermissions.toString(perms)
                    + "); a secret must be readable by its owner only: chmod 600 " + file);
        }
        String s;
        try {
            s = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw unreadable(file, key, e);
        }
        if (s.endsWith("\n")) s = s.substring(0, s.length() - 1);
        if (s.endsWith("\r")) s = s.substring(0, s.length() - 1);
        return s.toCharArray();
    }
}
