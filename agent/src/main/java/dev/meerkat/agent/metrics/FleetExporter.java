package dev.meerkat.agent.metrics;

import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.coordination.fleet.FleetView;
import dev.meerkat.coordination.rollout.RolloutState;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;

/**
 * {@code meerkat fleet exporter}: the fleets' figures from ZooKeeper, for one Prometheus scrape
 * instead of thousands of gateways behind NAT. A {@link CuratorCache} of {@code /fleets} (one
 * persistent recursive watch, no polling) holds the members, the status znodes, the config layers
 * and the rollouts; each scrape reads them from memory, through the same reading of a fleet as
 * {@code meerkat fleet list} ({@link FleetView}).
 */
public final class FleetExporter implements Closeable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FleetExporter.class);
    private final CuratorCache cache;
    private final HTTPServer server;
    private final ExecutorService scrapes;

    private FleetExporter(CuratorCache cache, HTTPServer server, ExecutorService scrapes) {
        this.cache = cache;
        this.server = server;
        this.scrapes = scrapes;
    }

    /** @param fleets the fleets to export; empty: every fleet under the root */
    public static FleetExporter start(CuratorFramework zk, String root, List<String> fleets, BootstrapConfig.Metrics listen) throws IOException {
        CuratorCache cache = CuratorCache.build(zk, root + "/fleets");
        java.util.concurrent.CountDownLatch loaded = new java.util.concurrent.CountDownLatch(1);
        cache.listenable().addListener(org.apache.curator.framework.recipes.cache.CuratorCacheListener.builder()
                .forInitialized(loaded::countDown).build());
        cache.start();
        try {
            // A scrape of a cache still loading would show devices missing: serve once it holds the fleets.
            if (!loaded.await(2, java.util.concurrent.TimeUnit.MINUTES)) {
                log.warn("the fleets are not all read after 2 minutes; serving what is read so far");
            }
        } catch (InterruptedException e) {
            cache.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the fleets", e);
        }
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new Series(cache, zk, root, fleets));
        ExecutorService scrapes = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("meerkat-exporter").daemon(true).unstarted(r));
        try {
            HTTPServer server = HTTPServer.builder().hostname(listen.host()).port(listen.port()).registry(registry)
                    .executorService(scrapes).buildAndStart();
            return new FleetExporter(cache, server, scrapes);
        } catch (IOException e) {
            cache.close();
            scrapes.shutdownNow();
            throw new IOException("--listen " + listen + ": cannot listen there (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public void close() {
        server.close();
        scrapes.shutdownNow();
        cache.close();
    }

    /** The series, read from the cache at each scrape. */
    static final class Series implements MultiCollector {
        private final CuratorCache cache;
        private final CuratorFramework zk;
        private final String root;
        private final List<String> fleets;

        Series(CuratorCache cache, CuratorFramework zk, String root, List<String> fleets) {
            this.cache = cache;
            this.zk = zk;
            this.root = root;
            this.fleets = fleets;
        }

        @Override
        public MetricSnapshots collect() {
            Map<String, ChildData> nodes = new HashMap<>();
            Map<String, List<String>> children = new HashMap<>();
            cache.stream().forEach(cd -> {
                nodes.put(cd.getPath(), cd);
                int slash = cd.getPath().lastIndexOf('/');
                if (slash > 0) children.computeIfAbsent(cd.getPath().substring(0, slash), k -> new ArrayList<>()).add(cd.getPath().substring(slash + 1));
            });
            FleetView.Snapshot snapshot = new FleetView.Snapshot() {
                @Override
                public Optional<FleetView.Node> get(String path) {
                    return Optional.ofNullable(nodes.get(path)).map(cd -> new FleetView.Node(cd.getData(), cd.getStat()));
                }

                @Override
                public List<String> children(String path) {
                    return children.getOrDefault(path, List.of());
                }
            };
            return collect(snapshot, zk.getZookeeperClient().isConnected());
        }

        MetricSnapshots collect(FleetView.Snapshot s, boolean connected) {
            List<String> names = fleets.isEmpty() ? s.children(root + "/fleets") : fleets;
            Map<String, GaugeSnapshot.Builder> g = new TreeMap<>();
            List<MetricSnapshot> out = new ArrayList<>();
            out.add(StatusMetrics.gauge("meerkat_exporter_zookeeper_connected", "1 while the exporter's ZooKeeper session is connected"
                    + " (its figures are as last seen otherwise).", connected ? 1 : 0));
            InfoSnapshot.Builder firmware = InfoSnapshot.builder().name("meerkat_device_firmware").help("The firmware each device runs.");
            InfoSnapshot.Builder rollout = InfoSnapshot.builder().name("meerkat_rollout").help("Each rollout's status.");
            for (String fleet : new java.util.TreeSet<>(names)) {
                FleetView.Fleet f = FleetView.read(s, root, fleet);
                put(g, "meerkat_fleet_devices", "Devices of the fleet (a member or a status znode).", Labels.of("fleet", fleet), f.devices().size());
                put(g, "meerkat_fleet_devices_online", "Devices of the fleet online (a member znode).", Labels.of("fleet", fleet), f.online());
                put(g, "meerkat_fleet_config_latest_version", "The fleet config layer's latest version (-1: none).",
                        Labels.of("fleet", fleet), f.latestFleetVersion());
                for (FleetView.Device d : f.devices()) device(g, firmware, fleet, d);
                rollouts(s, g, rollout, fleet);
            }
            g.values().forEach(b -> out.add(b.build()));
            out.add(firmware.build());
            out.add(rollout.build());
            return new MetricSnapshots(out);
        }

        private static void device(Map<String, GaugeSnapshot.Builder> g, InfoSnapshot.Builder firmware, String fleet, FleetView.Device d) {
            Labels l = Labels.of("device", d.device(), "fleet", fleet);
            put(g, "meerkat_device_online", "1 while the device's member znode is there (its session alive).", l, d.online() ? 1 : 0);
            if (d.fleetVersion() != null) {
                put(g, "meerkat_device_config_version", "The config layer versions the device applied (-1: none).",
                        Labels.of("device", d.device(), "fleet", fleet, "layer", "fleet"), d.fleetVersion());
            }
            if (d.deviceVersion() != null) {
                put(g, "meerkat_device_config_version", "The config layer versions the device applied (-1: none).",
                        Labels.of("device", d.device(), "fleet", fleet, "layer", "device"), d.deviceVersion());
            }
            put(g, "meerkat_device_config_latest_version", "The device config layer's latest version (-1: none).", l, d.latestDeviceVersion());
            put(g, "meerkat_device_config_errors", "Config documents the device rejects now.", l, d.configErrors().size());
            put(g, "meerkat_device_sensors_not_ok", "The device's sensors whose state is not ok.", l, d.unhealthySensors().size());
            if (d.mqttConnected() != null) put(g, "meerkat_device_mqtt_connected", "1 while the device's broker connection is up.", l,
                    d.mqttConnected() ? 1 : 0);
            put(g, "meerkat_device_buffer_readings", "Readings the device holds not yet acknowledged by the broker.", l, d.buffered());
            put(g, "meerkat_device_readings_dropped", "Readings the device dropped, in all (kept across its restarts).", l, d.dropped());
            put(g, "meerkat_device_status_problem", "1 when the device's own znodes are not what SPEC 5 says.", l, d.problem() == null ? 0 : 1);
            if (d.firmware() != null) {
                firmware.dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder()
                        .labels(Labels.of("device", d.device(), "fleet", fleet, "version", d.firmware())).build());
            }
        }

        private void rollouts(FleetView.Snapshot s, Map<String, GaugeSnapshot.Builder> g, InfoSnapshot.Builder info, String fleet) {
            String base = root + "/fleets/" + fleet + "/rollouts";
            for (String id : s.children(base)) {
                Optional<FleetView.Node> state = s.get(base + "/" + id + "/state");
                if (state.isEmpty()) continue;
                RolloutState r;
                try {
                    r = RolloutState.read(state.get().data());
                } catch (IOException | RuntimeException unreadable) {
                    continue; // the leader aborts such a rollout, saying why; meerkat rollout status shows it
                }
                info.dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder()
                        .labels(Labels.of("fleet", fleet, "rollout", id, "status", String.valueOf(r.status()))).build());
                Map<String, Long> byState = new TreeMap<>();
                if (r.devices() != null) r.devices().values().forEach(d -> byState.merge(String.valueOf(d.state()), 1L, Long::sum));
                byState.forEach((st, n) -> put(g, "meerkat_rollout_devices", "Devices of the rollout, by state.",
                        Labels.of("fleet", fleet, "rollout", id, "state", st), n));
            }
        }

        private static void put(Map<String, GaugeSnapshot.Builder> g, String name, String help, Labels labels, double value) {
            g.computeIfAbsent(name, n -> GaugeSnapshot.builder().name(n).help(help))
                    .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(value).build());
        }
    }
}
