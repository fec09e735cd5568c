package dev.meerkat.coordination.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZkCredentialsTest {
    @TempDir
    Path dir;

    private Path secret(String content, String perms) throws IOException {
        Path f = dir.resolve("zk.secret");
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
        return f;
    }

    @Test
    void readsOneUserPerLineSkippingCommentsAndKeepsPasswordsOutOfItsText() throws Exception {
        ZkCredentials c = ZkCredentials.read(secret("# provisioned\nf/gw-1:pa:ss\n\nf/*:fleet-pw\n", "rw-------"));
        assertEquals(List.of("f/gw-1", "f/*"), c.lines().stream().map(ZkCredentials.Credential::user).toList());
        assertEquals("pa:ss", new String(c.of("f/gw-1").orElseThrow().password()), "only the first colon separates");
        assertFalse(c.toString().contains("pa:ss") || c.toString().contains("fleet-pw"), c.toString());
    }

    @Test
    void aMalformedLineIsNamedByNumberNotContent() throws Exception {
        IOException e = assertThrows(IOException.class, () -> ZkCredentials.read(secret("f/gw-1:ok\nsecret-without-user\n", "rw-------")));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertFalse(e.getMessage().contains("secret-without-user"), e.getMessage());
    }

    @Test
    void aFileOthersCanReadIsRefused() throws Exception {
        IOException e = assertThrows(IOException.class, () -> ZkCredentials.read(secret("f/gw-1:pw\n", "rw-r--r--")));
        assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
        assertFalse(e.getMessage().contains("pw\n"), e.getMessage());
    }

    @Test
    void digestIdsAreTheOnesZooKeeperComputes() throws Exception {
        Id mine = FleetAcls.digest("f/gw-1", "s3cret".toCharArray());
        assertEquals(DigestAuthenticationProvider.generateDigest("f/gw-1:s3cret"), mine.getId());
        assertEquals("digest:f/gw-1=rw---", FleetAcls.describe(new ACL(FleetAcls.R | FleetAcls.W, mine)), "the hash is not shown");
    }

    @Test
    void theLayoutGivesTheDeviceItsOwnAndTheFleetTheShared() {
        Id device = FleetAcls.digest("f/gw-1", "a".toCharArray()), fleet = FleetAcls.digest("f/*", "b".toCharArray());
        var layout = FleetAcls.layout("/meerkat", "f", "gw-1", device, fleet);
        for (FleetAcls.Node n : layout) {
            boolean operatorOwns = n.acl().stream().anyMatch(a -> a.getId().equals(FleetAcls.OPERATOR) && a.getPerms() == FleetAcls.ALL);
            assertTrue(operatorOwns, n.path());
            for (ACL a : n.acl()) {
                if (!a.getId().equals(FleetAcls.OPERATOR)) {
                    assertEquals(0, a.getPerms() & FleetAcls.A, "only the operator administers " + n.path());
                }
                if (n.path().contains("/config") && !a.getId().equals(FleetAcls.OPERATOR)) {
                    assertEquals(FleetAcls.R, a.getPerms(), "config is read-only to devices: " + n.path());
                }
            }
        }
        ACL member = layout.stream().filter(n -> n.path().endsWith("/members")).findFirst().orElseThrow().acl().get(1);
        assertEquals(fleet, member.getId());
        assertEquals(0, member.getPerms() & FleetAcls.D, "no device may delete a member");
    }
}
