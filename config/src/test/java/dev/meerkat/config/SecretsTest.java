package dev.meerkat.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secret files: owner-only, and an unreadable one says whose it must be. */
class SecretsTest {
    @TempDir
    Path dir;

    @Test
    void aFileTheAgentMayNotReadSaysWhoMustOwnIt() {
        // The case of a secret made by root with chmod 600 and an agent that runs as meerkat (the
        // tests run as root, who may read anything, so the JDK's exception is made here).
        Path file = Path.of("/etc/meerkat/mqtt.user");
        IOException e = Secrets.unreadable(file, "mqtt.usernameFile", new AccessDeniedException(file.toString()));
        String user = System.getProperty("user.name");
        assertEquals("mqtt.usernameFile: /etc/meerkat/mqtt.user cannot be read by user " + user + " (permission denied); the file must"
                + " belong to the user the agent runs as and be readable by it only: sudo chown " + user + ": /etc/meerkat/mqtt.user"
                + " && sudo chmod 600 /etc/meerkat/mqtt.user", e.getMessage());
        assertEquals("mqtt.passwordFile: /x does not exist",
                Secrets.unreadable(Path.of("/x"), "mqtt.passwordFile", new NoSuchFileException("/x")).getMessage());
    }

    @Test
    void aSecretOpenToOthersIsRefusedAndAnOwnerOnlyOneIsRead() throws Exception {
        Path open = dir.resolve("open");
        Files.writeString(open, "pw\n");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
        IOException e = assertThrows(IOException.class, () -> Secrets.read(open, "mqtt.passwordFile"));
        assertTrue(e.getMessage().contains("chmod 600 " + open), e.getMessage());
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-------"));
        assertEquals("pw", new String(Secrets.read(open, "mqtt.passwordFile")));
        IOException missing = assertThrows(IOException.class, () -> Secrets.read(dir.resolve("none"), "mqtt.passwordFile"));
        assertTrue(missing.getMessage().startsWith("mqtt.passwordFile: "), missing.getMessage());
    }
}
