package dev.meerkat.coordination.security;

import dev.meerkat.config.Secrets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The digest credentials of {@code zookeeper.auth.credentialsFile}: one {@code user:password} per
 * line; blank lines and lines starting with {@code #} are skipped. A device's file holds its own
 * line ({@code F/D:...}, unless it proves who it is with a client certificate) and its fleet's
 * ({@code F/*:...}); see docs/security.md. The file must be owner-only ({@link Secrets}); errors
 * name the line, never its content.
 */
public record ZkCredentials(List<Credential> lines) {

    /** One user and password; {@link #toString()} leaves the password out. */
    public record Credential(String user, char[] password) {
        /** The bytes ZooKeeper's digest scheme expects: {@code user:password}. */
        public byte[] authBytes() {
            return (user + ":" + new String(password)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "Credential[user=" + user + "]";
        }
    }

    public static ZkCredentials read(Path file) throws IOException {
        char[] all = Secrets.read(file, "zookeeper.auth.credentialsFile");
        List<Credential> out = new ArrayList<>();
        String[] lines = new String(all).split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            int colon = line.indexOf(':');
            if (colon <= 0 || colon == line.length() - 1) {
                throw new IOException("zookeeper.auth.credentialsFile: line " + (i + 1) + " of " + file
                        + " is not user:password (digest credentials, one per line)");
            }
            out.add(new Credential(line.substring(0, colon), line.substring(colon + 1).toCharArray()));
        }
        if (out.isEmpty()) throw new IOException("zookeeper.auth.credentialsFile: " + file + " holds no user:password line");
        return new ZkCredentials(List.copyOf(out));
    }

    /** The line of {@code user}, if there is one. */
    public java.util.Optional<Credential> of(String user) {
        return lines.stream().filter(c -> c.user().equals(user)).findFirst();
    }

    @Override
    public String toString() {
        return "ZkCredentials" + lines;
    }
}
