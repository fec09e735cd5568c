package dev.meerkat.test;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.meerkat.coordination.testing.ZooKeeperEnsemble;
import dev.meerkat.test.fixtures.Fixtures;
import dev.meerkat.test.fixtures.MqttBroker;
import dev.meerkat.test.fixtures.RecordingSubscriber;
import dev.meerkat.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The fixtures that every later test leans on do what they say, on real servers. */
class FixturesTest {
    static Path work;
    static ZooKeeperEnsemble zk;

    @BeforeAll
    static void ensemble() throws Exception {
        work = Fixtures.workDir("fixtures");
        zk = Fixtures.ensemble(3, work.resolve("zk"));
    }

    @AfterAll
    static void stop() {
        if (zk != null) zk.close();
    }

    @Test
    void theEnsembleSurvivesItsLeaderBeingKilledAndTakesItBack() throws Exception {
        assertEquals(3, zk.size());
        try (CuratorFramework c = zk.client("fixtures", Duration.ofSeconds(15))) {
            c.create().creatingParentsIfNeeded().forPath("/a", "1".getBytes(StandardCharsets.UTF_8));
            Await.until(Duration.ofSeconds(10), "a leader", () -> leader() >= 0);
            int leader = leader();
            zk.kill(leader);
            // Two of three still make a quorum: a new leader, and writes go on.
            Await.until(Duration.ofSeconds(30), "a new leader", () -> leader() >= 0 && leader() != leader);
            c.setData().forPath("/a", "2".getBytes(StandardCharsets.UTF_8));
            zk.restart(leader);
            Await.until(Duration.ofSeconds(30), "the restarted server to serve the data", () -> {
                try (CuratorFramework only = onlyServer(leader)) {
                    return "2".equals(new String(only.getData().forPath("/a"), StandardCharsets.UTF_8));
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }

    @Test
    void theBrokerDeliversRestartsOnItsPortAndTheRecorderKeepsOrder() throws Exception {
        try (MqttBroker broker = Fixtures.broker(work.resolve("mqtt"));
             RecordingSubscriber rec = new RecordingSubscriber(broker.uri(), "t/#", 1)) {
            publish(broker, 50);
            List<RecordingSubscriber.Message> got = rec.await(Duration.ofSeconds(10), 50, m -> true);
            for (int i = 0; i < 50; i++) assertEquals(Integer.toString(i), got.get(i).text());
            broker.stop();
            broker.start();
            publish(broker, 1);
        }
    }

    static void publish(MqttBroker broker, int n) throws Exception {
        MqttClient p = new MqttClient(broker.uri(), "pub-" + System.nanoTime(), new MemoryPersistence());
        MqttConnectOptions options = new MqttConnectOptions();
        // Paho marks a synchronous QoS 1 publish complete before it frees the in-flight slot, so a
        // tight loop can hit "Too many publishes in progress" at the default limit of 10 (seen in CI).
        options.setMaxInflight(Math.max(10, n + 1));
        p.connect(options);
        for (int i = 0; i < n; i++) p.publish("t/x", Integer.toString(i).getBytes(StandardCharsets.UTF_8), 1, false);
        p.disconnect();
        p.close();
    }

    static int leader() {
        try {
            return zk.leader();
        } catch (Exception e) {
            return -1;
        }
    }

    /** A client that talks to server {@code i} alone. */
    static CuratorFramework onlyServer(int i) throws Exception {
        String one = zk.connectString().split(",")[i];
        CuratorFramework c = CuratorFrameworkFactory.builder().connectString(one).namespace("fixtures")
                .retryPolicy(new RetryOneTime(100)).build();
        c.start();
        if (!c.blockUntilConnected(5, TimeUnit.SECONDS)) {
            c.close();
            throw new IllegalStateException("server " + one + " does not answer");
        }
        return c;
    }
}
