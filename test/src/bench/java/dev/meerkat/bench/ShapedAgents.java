package dev.meerkat.bench;

import dev.meerkat.agent.Agent;
import dev.meerkat.agent.status.StatusReport;
import dev.meerkat.agent.status.StatusReporter;
import dev.meerkat.config.BootstrapConfig;
import dev.meerkat.config.ConfigDocument;
import dev.meerkat.config.ConfigLayers;
import dev.meerkat.config.EffectiveConfig;
import dev.meerkat.config.Json;
import dev.meerkat.coordination.FleetPaths;
import dev.meerkat.coordination.ZooKeeperClients;
import dev.meerkat.coordination.configwatch.ConfigWatch;
import dev.meerkat.coordination.election.Candidacy;
import dev.meerkat.coordination.election.Election;
import dev.meerkat.coordination.election.Leadership;
import dev.meerkat.coordination.registration.MemberInfo;
import dev.meerkat.coordination.registration.Registration;
import dev.meerkat.coordination.session.Session;
import dev.meerkat.coordination.status.StatusWriter;
import dev.meerkat.drivers.Drivers;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;

/**
 * A client JVM of the {@code fleetscale} section: N agents shaped like Meerkat's, each its real
 * coordination code on a session of its own (the Curator client as the agent builds it, the
 * {@link Registration}, the {@link ConfigWatch} on both config subtrees with the agent's debounce
 * and {@link ConfigLayers}, the {@link StatusReporter} and the {@link Election}), without sensors and
 * MQTT, so that thousands fit on two cores.
 *
 * <p>{@code mode} is {@code before} (every agent stands in the election, and every status change
 * is written within 500 ms: the behaviour before issue 27) or {@code after} (at most 5 candidates,
 * and the status rule of {@link StatusReporter}).
 *
 * <p>Driven over stdin, one command a line: {@code report <epochMs>} prints one JSON line (the
 * agents registered, connected, standing; the sessions lost; for each agent that applied or wrote
 * a fleet version at or above the given one, how long after {@code epochMs}, and how long after its
 * apply it wrote; each reconnect after it); {@code quit} closes everything.
 */
public final class ShapedAgents {
    /**
     * The election's lists as the clients got them (Curator's traces of {@code getChildren}, which
     * carry the path and the number of children): how many, and the names in all. Each name costs
     * about 58 bytes of reply; a reconnect makes each candidate list the election again.
     */
    static final class ElectionLists extends org.apache.curator.drivers.AdvancedTracerDriver {
        final java.util.concurrent.atomic.AtomicLong lists = new java.util.concurrent.atomic.AtomicLong(),
                names = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public void addTrace(org.apache.curator.drivers.OperationTrace trace) {
            if (trace.getName().startsWith("GetChildrenBuilderImpl") && trace.getPath() != null && trace.getPath().endsWith("/election")) {
                lists.incrementAndGet();
                names.addAndGet(trace.getResponseChildrenCount());
            }
        }

        @Override
        public void addEvent(org.apache.curator.drivers.EventTrace trace) {}
    }

    static final ElectionLists ELECTION_LISTS = new ElectionLists();

    /** One agent's coordination. */
    static final class Shaped {
        final CuratorFramework client;
        final Session session;
        final Registration registration;
        final ConfigWatch watch;
        final StatusReporter status;
        final Election election;
        final Candidacy candidacy;
        final AtomicReference<Map<String, ConfigDocument>> inForce = new AtomicReference<>(Map.of());
        volatile EffectiveConfig running;
        volatile long appliedVersion = -1, appliedAt, writtenVersion = -1, writtenAt, connectedAt;
        final AtomicInteger lost = new AtomicInteger();

        Shaped(String connect, String root, String fleet, String device, boolean after, Drivers drivers, ScheduledExecutorService statusThread)
                throws Exception {
            BootstrapConfig.ZooKeeper zk = new BootstrapConfig.ZooKeeper(connect, root, Duration.ofSeconds(15), Optional.empty(), Optional.empty());
            FleetPaths paths = new FleetPaths(root, fleet, device);
            client = ZooKeeperClients.forDevice(zk, paths, dev.meerkat.coordination.security.ZooKeeperSecurity.NONE);
            client.getZookeeperClient().setTracerDriver(ELECTION_LISTS);
            client.start();
            session = new Session(client, zk.sessionTimeout());
            session.listen(new Session.Listener() {
                @Override
                public void connected(long sessionId, boolean newSession) {
                    connectedAt = System.currentTimeMillis();
                }

                @Override
                public void lost() {
                    lost.incrementAndGet();
                }
            });
            registration = new Registration(client, paths.member(), new MemberInfo(device, fleet, "bench", "bench", "bench-host",
                    List.of(), Instant.now().toString(), List.of()), Optional.empty());
            registration.start(session);
            StatusWriter writer = new StatusWriter(client, paths.status(), paths.members());
            status = new StatusReporter(writer,
                    () -> running == null ? null : new StatusReport(running, Instant.now(), List.of(), Map.of(), true, StatusReport.Delivery.NONE, "bench"),
                    report -> {
                        writtenVersion = report.config().fleetVersion();
                        writtenAt = System.currentTimeMillis();
                    },
                    // Before issue 27 every change was written within 500 ms: a window of a fleet of none.
                    after ? writer::fleetSize : () -> 0, statusThread, dev.meerkat.time.Ticker.SYSTEM,
                    bound -> ThreadLocalRandom.current().nextLong(bound + 1));
            watch = new ConfigWatch(client, paths, Agent.DEBOUNCE, snap -> {
                var result = ConfigLayers.build(snap.fleet(), snap.device(), drivers, inForce.get());
                inForce.set(result.used());
                running = result.config();
                appliedVersion = result.config().fleetVersion();
                appliedAt = System.currentTimeMillis();
                status.update();
            });
            watch.start(session);
            election = new Election(client, paths.election(), device, new Election.Listener() {
                @Override
                public void elected(Leadership leadership) {}

                @Override
                public void deposed() {}
            });
            if (after) {
                candidacy = new Candidacy(client, paths.candidates(), device, 5, election);
                candidacy.start(session);
            } else {
                candidacy = null;
                election.start();
            }
        }

        void close() {
            try {
                if (candidacy != null) candidacy.close();
                election.close();
                watch.close();
                registration.close();
                status.close();
                session.close();
            } catch (Exception e) {
                // closing anyway
            }
            client.close();
        }
    }

    public static void main(String[] args) throws Exception {
        dev.meerkat.agent.logging.Logging.setUp("error");
        String connect = args[0], root = args[1], fleet = args[2];
        int first = Integer.parseInt(args[3]), count = Integer.parseInt(args[4]);
        boolean after = args[5].equals("after");
        Drivers drivers = Drivers.load();
        // An agent writes its status on a thread of its own; here 32 threads share the JVM's agents, so
        // that a burst of writes is not queued behind a few (each write waits for its round trip).
        ScheduledExecutorService statusThread = Executors.newScheduledThreadPool(32, r -> Thread.ofPlatform().daemon(true).name("status").unstarted(r));
        List<Shaped> agents = new ArrayList<>();
        // Started a few at a time: a thousand connects at once from one JVM time out on two cores.
        for (int i = first; i < first + count; i++) {
            agents.add(new Shaped(connect, root, fleet, String.format("gw-%05d", i), after, drivers, statusThread));
            if (agents.size() % 50 == 0) Thread.sleep(200);
        }
        System.out.println("started " + count);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = in.readLine()) != null; ) {
            String[] cmd = line.trim().split(" ");
            if (cmd[0].equals("quit")) break;
            if (cmd[0].equals("report")) {
                long t0 = Long.parseLong(cmd[1]), version = Long.parseLong(cmd[2]);
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("agents", agents.size());
                // Nothing here asks ZooKeeper: a report must not wait on thousands of suspended sessions.
                r.put("registered", agents.stream().filter(a -> a.registration.registeredIn(a.session.id())).count());
                r.put("connected", agents.stream().filter(a -> a.session.connected()).count());
                r.put("standing", agents.stream().filter(a -> a.election.standing()).count());
                r.put("leading", agents.stream().filter(a -> a.election.leading()).count());
                r.put("lost", agents.stream().mapToInt(a -> a.lost.get()).sum());
                r.put("electionLists", ELECTION_LISTS.lists.get());
                r.put("electionNames", ELECTION_LISTS.names.get());
                r.put("applied", agents.stream().filter(a -> a.appliedVersion >= version).mapToLong(a -> a.appliedAt - t0).toArray());
                r.put("written", agents.stream().filter(a -> a.writtenVersion >= version).mapToLong(a -> a.writtenAt - t0).toArray());
                // What the status rule adds: from each agent's apply to its status write.
                r.put("writeDelay", agents.stream().filter(a -> a.writtenVersion >= version && a.appliedVersion >= version)
                        .mapToLong(a -> a.writtenAt - a.appliedAt).toArray());
                r.put("reconnected", agents.stream().filter(a -> a.connectedAt > t0).mapToLong(a -> a.connectedAt - t0).toArray());
                System.out.println(new String(Json.write(r)));
            }
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            for (Shaped a : agents) pool.submit(a::close);
        }
        System.exit(0);
    }
}
