package dev.meerkat.coordination;

import dev.meerkat.coordination.security.FleetAcls;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ACLs of the znodes a device creates itself (its member, its lock and election znodes), as
 * the model of {@link FleetAcls} wants them:
 *
 * <ul>
 *   <li>its member and anything else under its fleet: its owners all rights, the fleet read, the
 *       device itself read and write;
 *   <li>under {@code /locks}: its owners all rights, the fleet read, create and delete, so the
 *       other devices of the fleet can queue on the lock.
 * </ul>
 *
 * <p>The owners are the ids with ADMIN on the device's own znode ({@code /fleets/F/devices/D}, set
 * by {@code meerkat provision}). ZooKeeper shows a digest id's hash only to who may administer a
 * znode, so a device can name an operator by certificate ({@code x509:...}), not by digest; an
 * operator without a client certificate sees these znodes only as a superuser (docs/security.md).
 * The owners are read once per session, on the first create that needs them, never on ZooKeeper's
 * event thread (Curator asks for an ACL on the thread that issues the create). Without an identity
 * (no credentials, no client certificate) the client is built without this provider and znodes are
 * open, as ZooKeeper's own default.
 */
public final class DeviceAcls implements ACLProvider {
    private static final Logger log = LoggerFactory.getLogger(DeviceAcls.class);
    private static final long READ_TIMEOUT_MS = 5_000;

    private final FleetPaths paths;
    private final Id device;
    private final Id fleet;
    private volatile Supplier<ZooKeeper> zookeeper;
    private volatile Loaded loaded;

    private record Loaded(long session, List<Id> owners) {}

    public DeviceAcls(FleetPaths paths, Id device, Id fleet) {
        this.paths = paths;
        this.device = device;
        this.fleet = fleet;
    }

    /** Where to read the owners from; set once the client is built. */
    public void bind(Supplier<ZooKeeper> zookeeper) {
        this.zookeeper = zookeeper;
    }

    @Override
    public List<ACL> getDefaultAcl() {
        return getAclForPath(paths.root());
    }

    @Override
    public List<ACL> getAclForPath(String path) {
        List<Id> owners = load().owners();
        String locks = paths.root() + "/locks";
        // Fresh, mutable lists: ZooKeeper's client checks them with contains(null), which immutable lists refuse.
        if (path.equals(locks) || path.startsWith(locks + "/")) {
            return FleetAcls.ownedBy(owners, FleetAcls.locks(fleet));
        }
        return FleetAcls.ownedBy(owners, FleetAcls.acl(FleetAcls.R, fleet), FleetAcls.acl(FleetAcls.R | FleetAcls.W, device));
    }

    /** The owners as this session last read them: empty before the first read. */
    public List<Id> owners() {
        Loaded l = loaded;
        return l == null ? List.of() : l.owners();
    }

    private Loaded load() {
        Supplier<ZooKeeper> s = zookeeper;
        ZooKeeper zk;
        try {
            zk = s == null ? null : s.get();
        } catch (Exception e) {
            zk = null;
        }
        long session = zk == null ? 0 : zk.getSessionId();
        Loaded l = loaded;
        if (l != null && (l.session() == session || session == 0)) return l;
        if (zk == null || Thread.currentThread().getName().endsWith("-EventThread")) {
            // No answer can come on the event thread: use what there is.
            return l != null ? l : new Loaded(0, List.of());
        }
        List<ACL> acl = read(zk, paths.root() + "/fleets/" + paths.fleet() + "/devices/" + paths.device());
        if (acl == null) {
            // No answer (a timeout, the connection dropped): use what there is, and ask again next time.
            return l != null ? l : new Loaded(0, List.of());
        }
        List<Id> owners = new ArrayList<>();
        for (ACL a : acl) {
            Id id = a.getId();
            if ((a.getPerms() & ZooDefs.Perms.ADMIN) != 0 && !FleetAcls.masked(id) && !id.equals(device) && !id.equals(fleet)) owners.add(id);
        }
        if (owners.isEmpty()) {
            log.warn("no owner this device can name on {}: is it provisioned (meerkat provision --fleet {} --device {}), and does "
                    + "the operator have a client certificate? The znodes it creates (member, locks) are then readable by a "
                    + "ZooKeeper superuser only", paths.relative(paths.root() + "/fleets/" + paths.fleet() + "/devices/" + paths.device()),
                    paths.fleet(), paths.device());
        }
        Loaded fresh = new Loaded(session, List.copyOf(owners));
        loaded = fresh;
        return fresh;
    }

    /** The ACL; empty when the znode is missing or not readable; null when there was no answer. */
    private static List<ACL> read(ZooKeeper zk, String path) {
        CompletableFuture<List<ACL>> answer = new CompletableFuture<>();
        zk.getACL(path, null, (rc, p, ctx, acl, stat) -> {
            if (rc == KeeperException.Code.OK.intValue()) {
                answer.complete(acl);
            } else {
                answer.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), p));
            }
        }, null);
        try {
            return answer.get(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            KeeperException.Code code = e.getCause() instanceof KeeperException k ? k.code() : null;
            log.debug("cannot read the ACL of {}: {}", path, e.getCause().toString());
            return code == KeeperException.Code.NONODE || code == KeeperException.Code.NOAUTH ? List.of() : null;
        } catch (java.util.concurrent.TimeoutException e) {
            return null;
        }
    }
}
