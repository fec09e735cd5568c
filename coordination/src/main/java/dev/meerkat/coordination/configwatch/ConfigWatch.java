package dev.meerkat.coordination.configwatch;

import dev.meerkat.config.ConfigDocument;
import dev.meerkat.config.ConfigLayer;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.time.OnDemandScheduler;
import java.io.Closeable;
import java.time.Duration;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.utils.ZKPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the device's two config subtrees (SPEC §3), {@code /fleets/F/config} and
 * {@code /fleets/F/devices/D/config}, never the whole fleet, with Curator's {@link CuratorCache}
 * (persistent recursive watches).
 *
 * <p>Every change only marks the config dirty; a single applier thread takes a snapshot of both
 * caches a short {@code debounce} later and hands it on, so a burst of changes becomes one apply
 * and ZooKeeper's event thread never waits for the agent. After a reconnect, with the same session
 * or a new one, the caches re-read every znode (their reset handling) and a snapshot is taken again;
 * the receiver compares versions and digests, so a change made while the agent was away is applied
 * once.
 */
public final class ConfigWatch implements Session.Listener, Closeable {
    private static final Logger log = LoggerFactory.getLogger(ConfigWatch.class);
    /** After a reconnect, a snapshot once the caches have had time to re-read. */
    private static final Duration RECONCILE_DELAY = Duration.ofSeconds(1);

    /**
     * Both layers as the caches hold them now, and whether the fleet's config znode exists at all:
     * without it (an ensemble wiped or restored from an old snapshot) the layers say nothing.
     */
    public record Snapshot(ConfigLayer fleet, ConfigLayer device, boolean fleetExists) {}

    private final FleetPaths paths;
    private final String fleetRoot, deviceRoot;
    private final Consumer<Snapshot> receiver;
    private final Duration debounce;
    private final CuratorCache fleetCache, deviceCache;
    private final ScheduledExecutorService applier;
    private final AtomicBoolean pending = new AtomicBoolean();
    private final AtomicInteger initialized = new AtomicInteger();
    private final AtomicBoolean started = new AtomicBoolean(), closed = new AtomicBoolean();
    private Session session;

    /** {@code receiver} runs on the watch's own thread, one snapshot at a time. */
    public ConfigWatch(CuratorFramework client, FleetPaths paths, Duration debounce, Consumer<Snapshot> receiver) {
        this.paths = paths;
        this.fleetRoot = paths.fleetConfig();
        this.deviceRoot = paths.deviceConfig();
        this.receiver = receiver;
        this.debounce = debounce;
        this.fleetCache = CuratorCache.build(client, fleetRoot);
        this.deviceCache = CuratorCache.build(client, deviceRoot);
        // A platform thread, only while there is a snapshot to apply: the receiver calls into Curator,
        // which blocks inside synchronized code.
        this.applier = new OnDemandScheduler("meerkat-config-" + paths.device());
    }

    /** Starts both caches; {@code session} tells of reconnects, after which both layers are reconciled. */
    public void start(Session session) {
        if (!started.compareAndSet(false, true)) throw new IllegalStateException("already started");
        for (CuratorCache cache : new CuratorCache[] {fleetCache, deviceCache}) {
            cache.listenable().addListener(new CuratorCacheListener() {
                @Override
                public void event(Type type, ChildData oldData, ChildData data) {
                    changed(debounce);
                }

                @Override
                public void initialized() {
                    if (initialized.incrementAndGet() == 2) changed(Duration.ZERO);
                }
            });
        }
        this.session = session;
        session.listen(this);
        fleetCache.start();
        deviceCache.start();
        log.info("watching config fleet={} device={}", fleetRoot, deviceRoot);
    }

    /** True once both caches have read their subtree for the first time. */
    private boolean initialized() {
        return initialized.get() >= 2;
    }

    /** After a reconnect, same session or new; SUSPENDED and LOST need nothing: the caches resync themselves. */
    @Override
    public void connected(long sessionId, boolean newSession) {
        changed(RECONCILE_DELAY);
    }

    private void changed(Duration delay) {
        if (!initialized() || closed.get()) return;
        if (pending.compareAndSet(false, true)) {
            try {
                applier.schedule(this::deliver, delay.toNanos(), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                pending.set(false);
            }
        }
    }

    private void deliver() {
        pending.set(false);
        try {
            receiver.accept(snapshot());
        } catch (RuntimeException e) {
            log.error("applying a config snapshot failed: {}", e.toString(), e);
        }
    }

    private Snapshot snapshot() {
        return new Snapshot(layer(fleetCache, fleetRoot), layer(deviceCache, deviceRoot), fleetCache.get(fleetRoot).isPresent());
    }

    private ConfigLayer layer(CuratorCache cache, String root) {
        Optional<ConfigDocument> agent = cache.get(FleetPaths.agentDoc(root)).map(this::document);
        String sensorsDir = FleetPaths.sensorsDir(root);
        TreeMap<String, ConfigDocument> sensors = new TreeMap<>();
        cache.stream()
                .filter(d -> sensorsDir.equals(ZKPaths.getPathAndNode(d.getPath()).getPath()))
                .forEach(d -> sensors.put(ZKPaths.getNodeFromPath(d.getPath()), document(d)));
        return new ConfigLayer(agent, sensors);
    }

    /** A document named by its path under the root, as error messages and the status show it. */
    private ConfigDocument document(ChildData d) {
        return new ConfigDocument(paths.relative(d.getPath()), d.getData() == null ? new byte[0] : d.getData(), d.getStat().getVersion());
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        if (session != null) session.unlisten(this);
        fleetCache.close();
        deviceCache.close();
        applier.shutdownNow();
        try {
            applier.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
