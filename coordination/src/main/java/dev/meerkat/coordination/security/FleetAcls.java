package dev.meerkat.coordination.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;

/**
 * The ACL model (docs/security.md): who may do what on the znodes of a fleet. Three kinds of
 * identity:
 *
 * <ul>
 *   <li>the <b>operator</b>: whoever runs {@code meerkat provision}; ZooKeeper's {@code auth}
 *       scheme stands for every id of that session, and they get every permission on everything;
 *   <li>the <b>device</b> D of fleet F: its client certificate's subject ({@code x509:CN=...}) or
 *       the digest user {@code F/D};
 *   <li>the <b>fleet</b> F: the digest user {@code F/*}, which every device of F also holds. The
 *       rights every device of a fleet shares (read the fleet config, register, take locks, join
 *       the election) are the fleet's, so they are written once per znode, not once per device.
 * </ul>
 */
public final class FleetAcls {
    public static final int R = Perms.READ, W = Perms.WRITE, C = Perms.CREATE, D = Perms.DELETE, A = Perms.ADMIN, ALL = Perms.ALL;

    /** The operator's ids, as ZooKeeper expands them when the operator's session creates or sets an ACL. */
    public static final Id OPERATOR = new Id("auth", "");

    private FleetAcls() {}

    /** The digest user of device {@code device} of {@code fleet}. */
    public static String deviceUser(String fleet, String device) {
        return fleet + "/" + device;
    }

    /** The digest user every device of {@code fleet} shares. */
    public static String fleetUser(String fleet) {
        return fleet + "/*";
    }

    /** The id a digest user and password authenticate as, {@code digest:user:base64(sha1(user:password))}. */
    public static Id digest(String user, char[] password) {
        try {
            byte[] sha = MessageDigest.getInstance("SHA-1").digest((user + ":" + new String(password)).getBytes(StandardCharsets.UTF_8));
            return new Id("digest", user + ":" + Base64.getEncoder().encodeToString(sha));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The id a client certificate authenticates as with ZooKeeper's X509AuthenticationProvider: its subject, RFC 2253. */
    public static Id x509(X509Certificate cert) {
        return new Id("x509", cert.getSubjectX500Principal().getName());
    }

    public static ACL acl(int perms, Id id) {
        return new ACL(perms, id);
    }

    /** {@code owners} with every permission, then the entries given. */
    public static List<ACL> ownedBy(List<Id> owners, ACL... others) {
        List<ACL> out = new ArrayList<>();
        for (Id o : owners) out.add(new ACL(ALL, o));
        for (ACL a : others) if (a != null) out.add(a);
        return out;
    }

    /** A znode of the layout: its path, whether its whole existing subtree gets the same ACL, and the ACL. */
    public record Node(String path, boolean subtree, List<ACL> acl) {}

    /**
     * The znodes {@code meerkat provision} creates (or, when they exist, sets the ACL of) for device
     * {@code device} of {@code fleet}, parents first. {@code deviceId} and {@code fleetId} are the
     * ids the device and its fleet authenticate as.
     */
    public static List<Node> layout(String root, String fleet, String device, Id deviceId, Id fleetId) {
        List<Id> op = List.of(OPERATOR);
        String f = root + "/fleets/" + fleet, d = f + "/devices/" + device;
        List<Node> out = new ArrayList<>();
        out.add(new Node(root, false, ownedBy(op)));
        out.add(new Node(root + "/fleets", false, ownedBy(op)));
        out.add(new Node(f, false, ownedBy(op)));
        // The fleet's config: every device of the fleet reads it, only the operator writes it.
        out.add(new Node(f + "/config", true, ownedBy(op, acl(R, fleetId))));
        out.add(new Node(f + "/config/sensors", true, ownedBy(op, acl(R, fleetId))));
        // Members: a device creates its own (ephemeral) member; deleting one is not a fleet right.
        out.add(new Node(f + "/members", false, ownedBy(op, acl(R | C, fleetId))));
        // The election recipe creates and deletes its own children.
        out.add(new Node(f + "/election", false, ownedBy(op, acl(R | C | D, fleetId))));
        // So do the candidates, each taking (and at its end leaving) an ephemeral slot.
        out.add(new Node(f + "/candidates", false, ownedBy(op, acl(R | C | D, fleetId))));
        out.add(new Node(f + "/rollouts", false, ownedBy(op, acl(R, fleetId))));
        out.add(new Node(f + "/devices", false, ownedBy(op)));
        // Read by the device to learn who its owners are (the ids with ADMIN here).
        out.add(new Node(d, false, ownedBy(op, acl(R, deviceId))));
        out.add(new Node(d + "/config", true, ownedBy(op, acl(R, deviceId))));
        out.add(new Node(d + "/config/sensors", true, ownedBy(op, acl(R, deviceId))));
        out.add(new Node(d + "/status", false, ownedBy(op, acl(R | W, deviceId))));
        out.add(new Node(d + "/firmware", false, ownedBy(op, acl(R, deviceId), acl(R, fleetId))));
        // The fleet's leader (a device of the fleet) writes the target; the device writes its report.
        out.add(new Node(d + "/firmware/target", false, ownedBy(op, acl(R, deviceId), acl(R | W, fleetId))));
        out.add(new Node(d + "/firmware/report", false, ownedBy(op, acl(R | W, deviceId), acl(R, fleetId))));
        return out;
    }

    /** The rights of fleet {@code fleetId} on {@code /locks}: take (create), release (delete) and watch (read) locks. */
    public static ACL locks(Id fleetId) {
        return acl(R | C | D, fleetId);
    }

    public static String describe(ACL acl) {
        int p = acl.getPerms();
        String s = ((p & R) != 0 ? "r" : "-") + ((p & W) != 0 ? "w" : "-") + ((p & C) != 0 ? "c" : "-")
                + ((p & D) != 0 ? "d" : "-") + ((p & A) != 0 ? "a" : "-");
        return describe(acl.getId()) + "=" + s;
    }

    /** {@code scheme:id}, a digest id by its user only: its hash says nothing to a reader. */
    public static String describe(Id id) {
        if (!"digest".equals(id.getScheme())) return id.getScheme() + ":" + id.getId();
        int colon = id.getId().indexOf(':');
        return "digest:" + (colon > 0 ? id.getId().substring(0, colon) : id.getId());
    }

    /**
     * ZooKeeper shows a digest id's hash only to who may administer the znode, as {@code user:x}:
     * such an id names nobody and cannot be granted anything.
     */
    public static boolean masked(Id id) {
        return "digest".equals(id.getScheme()) && id.getId().endsWith(":x");
    }

    /** {@code shown} (read from an ACL, perhaps masked) is {@code mine}: a digest id by its user, any other exactly. */
    public static boolean sameIdentity(Id shown, Id mine) {
        if (!"digest".equals(shown.getScheme()) || !"digest".equals(mine.getScheme())) return shown.equals(mine);
        return describe(shown).equals(describe(mine));
    }
}
