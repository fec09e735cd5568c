package dev.meerkat.agent.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.meerkat.config.Bus;
import dev.meerkat.config.Fields;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.coordination.locks.LockException;
import dev.meerkat.drivers.Driver;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.DriverException;
import dev.meerkat.drivers.Drivers;
import dev.meerkat.drivers.Sample;
import dev.meerkat.drivers.Sensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sampler's isolation of bad drivers, its back-off, its timeouts, and its bus and hardware locks. */
class SamplerTest {
    /** A driver whose behaviour each test sets: what a read does, per sensor id. */
    static final class TestDriver implements Driver {
        final Map<String, ReadFn> reads = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        final Map<String, java.util.function.Consumer<Sample>> listeners = new ConcurrentHashMap<>();

        interface ReadFn {
            Sample read() throws Exception;
        }

        @Override
        public String name() {
            return "test";
        }

        @Override
        public String checkBus(Bus bus) {
            return null;
        }

        @Override
        public void checkSettings(Fields settings) {}

        @Override
        public Sensor open(SensorConfig config, DriverContext context) {
            return new Sensor() {
                @Override
                public Sample read() throws DriverException {
                    calls.computeIfAbsent(config.id(), k -> new AtomicInteger()).incrementAndGet();
                    try {
                        return reads.get(config.id()).read();
                    } catch (DriverException | RuntimeException e) {
                        throw e;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new DriverException("interrupted", false);
                    } catch (Exception e) {
                        throw new DriverException(e.toString(), false);
                    }
                }

                @Override
                public void listen(java.util.function.Consumer<Sample> events) {
                    listeners.put(config.id(), events);
                }

                @Override
                public void close() {}
            };
        }

        int calls(String id) {
            AtomicInteger n = calls.get(id);
            return n == null ? 0 : n.get();
        }
    }

    static final Sample ONE = new Sample(Map.of("v", 1.0), Map.of("v", "1"));

    static SensorConfig sensor(String id, long intervalMs, Bus bus, String lock) {
        return new SensorConfig(id, "test", bus, Duration.ofMillis(intervalMs), Optional.ofNullable(lock), OptionalInt.empty(),
                JsonNodeFactory.instance.objectNode());
    }

    final TestDriver driver = new TestDriver();
    final List<SensorRunner.Taken> taken = new CopyOnWriteArrayList<>();
    final AtomicLong seq = new AtomicLong();

    Sampler sampler(Path dir, SensorRunner.LockSource locks) {
        return new Sampler(Drivers.of(driver), new DriverContext(Clock.systemUTC(), "gw"), s -> seq.incrementAndGet(), taken::add, () -> {},
                locks, new BusLocks(dir));
    }

    long count(String id) {
        return taken.stream().filter(t -> t.sensor().id().equals(id)).count();
    }

    @Test
    void aFailingSensorBacksOffIsMarkedFailedAndDoesNotDelayTheOthers(@TempDir Path dir) throws Exception {
        driver.reads.put("good", () -> ONE);
        driver.reads.put("bad", () -> {
            throw new DriverException("NACK", false);
        });
        try (Sampler s = sampler(dir, (n, w) -> Optional.empty())) {
            s.apply(Map.of("good", sensor("good", 20, Bus.NONE, null), "bad", sensor("bad", 20, Bus.NONE, null)));
            Thread.sleep(2000);
            SensorRunner bad = s.sensors().get("bad");
            assertEquals(SensorRunner.State.FAILED, bad.state());
            assertEquals("NACK", bad.lastError());
            // Without back-off 100 tries in 2 s; with it 1 + 1 + 2 + 4 + 8 + 16 + 32... intervals apart: about 7.
            int tries = driver.calls("bad");
            assertTrue(tries >= 5 && tries <= 10, "tries of the failing sensor in 2s: " + tries);
            assertTrue(count("good") >= 70, "the good sensor on its 20ms interval gave " + count("good") + " readings in 2s");
            assertEquals(SensorRunner.State.OK, s.sensors().get("good").state());
            // It recovers on the next try that works.
            driver.reads.put("bad", () -> ONE);
            assertNotNull(bad.readNow(Duration.ofSeconds(2)));
            assertEquals(SensorRunner.State.OK, bad.state());
            assertNull(bad.lastError());
        }
    }

    @Test
    void aHungReadTimesOutAndIsIsolated(@TempDir Path dir) throws Exception {
        driver.reads.put("good", () -> ONE);
        driver.reads.put("hung", () -> {
            Thread.sleep(Long.MAX_VALUE);
            return ONE;
        });
        try (Sampler s = sampler(dir, (n, w) -> Optional.empty())) {
            s.apply(Map.of("good", sensor("good", 50, Bus.NONE, null), "hung", sensor("hung", 200, Bus.NONE, null)));
            Thread.sleep(2800); // the timeout is the interval, at least 2 s, plus the lock wait (100 ms)
            SensorRunner hung = s.sensors().get("hung");
            assertEquals(1, hung.timeouts(), "the hung read timed out");
            assertTrue(hung.lastError().contains("timed out"), hung.lastError());
            assertEquals(SensorRunner.State.FAILING, hung.state(), hung.errors() + " errors, last: " + hung.lastError());
            assertTrue(hung.overruns() > 0, "firings while the read hung were skipped");
            assertTrue(count("good") >= 45, "the good sensor gave " + count("good") + " readings in 2.8s");
            assertEquals(0, count("hung"));
        }
    }

    @Test
    void aReadingWithoutItsLockIsSkippedAndCountedNeverTaken(@TempDir Path dir) throws Exception {
        driver.reads.put("locked", () -> ONE);
        AtomicInteger asked = new AtomicInteger();
        SensorRunner.LockSource never = (name, wait) -> {
            asked.incrementAndGet();
            if (asked.get() % 2 == 0) throw new LockException("lock " + name + ": not connected to ZooKeeper");
            TimeUnit.MILLISECONDS.sleep(wait.toMillis());
            return Optional.empty();
        };
        try (Sampler s = sampler(dir, never)) {
            s.apply(Map.of("locked", sensor("locked", 100, new Bus.I2c(1, 0x76), "site/i2c-1/0x76")));
            Thread.sleep(1000);
            SensorRunner r = s.sensors().get("locked");
            assertTrue(asked.get() >= 4, "lock asked for " + asked.get() + " times");
            assertEquals(asked.get(), r.lockSkips(), 1);
            assertEquals(0, driver.calls("locked"), "the hardware was touched without the lock");
            assertEquals(0, count("locked"));
            assertEquals(0, r.errors(), "a skipped reading is not a driver error");
        }
    }

    @Test
    void pushedSamplesAreNumberedWithTheReadOnes(@TempDir Path dir) throws Exception {
        driver.reads.put("edge", () -> ONE);
        try (Sampler s = sampler(dir, (n, w) -> Optional.empty())) {
            s.apply(Map.of("edge", sensor("edge", 60_000, Bus.NONE, null)));
            java.util.concurrent.TimeUnit.MILLISECONDS.sleep(300); // the first read opens the sensor
            var push = driver.listeners.get("edge");
            assertNotNull(push, "the sampler did not listen to the sensor");
            Sample two = new Sample(Map.of("v", 2.0), Map.of("v", "1"));
            for (int i = 0; i < 5; i++) push.accept(two);
            assertEquals(6, count("edge"));
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), taken.stream().map(SensorRunner.Taken::seq).toList());
            assertEquals(2.0, s.sensors().get("edge").last().sample().values().get("v"));
        }
    }

    @Test
    void sensorsOnOneBusTakeTurns(@TempDir Path dir) throws Exception {
        AtomicInteger inside = new AtomicInteger(), worst = new AtomicInteger();
        TestDriver.ReadFn slow = () -> {
            worst.accumulateAndGet(inside.incrementAndGet(), Math::max);
            try {
                Thread.sleep(15);
            } finally {
                inside.decrementAndGet(); // also when the stop interrupts the read: it is over then
            }
            return ONE;
        };
        driver.reads.put("a", slow);
        driver.reads.put("b", slow);
        driver.reads.put("c", slow);
        try (Sampler s = sampler(dir, (n, w) -> Optional.empty())) {
            s.apply(Map.of("a", sensor("a", 20, new Bus.I2c(1, 0x76), null), "b", sensor("b", 20, new Bus.I2c(1, 0x44), null),
                    "c", sensor("c", 20, new Bus.I2c(1, 0x23), null)));
            Thread.sleep(1000);
        }
        assertEquals(1, worst.get(), "two reads on /dev/i2c-1 at once");
        assertTrue(count("a") + count("b") + count("c") >= 40, "readings: " + taken.size());
    }

    @Test
    void theBusLockExcludesOtherProcesses(@TempDir Path dir) throws Exception {
        BusLocks locks = new BusLocks(dir);
        Path holder = dir.resolve("Holder.java");
        Files.writeString(holder, """
                import java.nio.channels.FileChannel;
                import java.nio.file.*;
                public class Holder {
                    public static void main(String[] a) throws Exception {
                        try (FileChannel c = FileChannel.open(Path.of(a[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                             var l = c.lock()) {
                            System.out.println("locked");
                            System.out.flush();
                            Thread.sleep(1500);
                        }
                    }
                }
                """);
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), holder.toString(),
                dir.resolve("meerkat-i2c-1.lock").toString()).redirectErrorStream(true).start();
        try {
            assertEquals("locked", new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine());
            assertNull(locks.lock("i2c-1", Duration.ofMillis(300)), "the bus was taken while another process held it");
            try (BusLocks.Held other = locks.lock("i2c-2", Duration.ofMillis(300))) {
                assertNotNull(other, "another bus is free");
            }
            BusLocks.Held h = locks.lock("i2c-1", Duration.ofSeconds(10));
            assertNotNull(h, "the bus was not free after the other process let go");
            assertTrue(!p.isAlive() || p.waitFor(5, TimeUnit.SECONDS));
            h.close();
        } finally {
            p.destroyForcibly();
        }
    }
}
