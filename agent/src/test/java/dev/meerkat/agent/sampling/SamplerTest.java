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
import dev.meerkat.drivers.Drivers;
import dev.meerkat.drivers.Sample;
import dev.meerkat.drivers.Sensor;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.time.ManualScheduler;
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
import java.util.concurrent.ExecutorService;
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
        public Map<String, String> quantities(dev.meerkat.config.SensorConfig config) {
            return Map.of("v", "1");
        }

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

    /** Time, intervals, back-offs and read timeouts driven by {@code time}; reads on {@code readers}. */
    Sampler sampler(Path dir, SensorRunner.LockSource locks, ManualScheduler time, ExecutorService readers) {
        return new Sampler(Drivers.of(driver), new DriverContext(Clock.systemUTC(), "gw"), s -> seq.incrementAndGet(), taken::add, () -> {},
                locks, new BusLocks(dir), time, time, readers);
    }

    /** Reads on the thread that advances the time: each read is over before time moves on. */
    static ExecutorService inline() {
        return new java.util.concurrent.AbstractExecutorService() {
            private volatile boolean down;

            @Override
            public void execute(Runnable r) {
                if (down) throw new java.util.concurrent.RejectedExecutionException("closed");
                r.run();
            }

            @Override
            public void shutdown() {
                down = true;
            }

            @Override
            public List<Runnable> shutdownNow() {
                down = true;
                return List.of();
            }

            @Override
            public boolean isShutdown() {
                return down;
            }

            @Override
            public boolean isTerminated() {
                return down;
            }

            @Override
            public boolean awaitTermination(long t, TimeUnit u) {
                return true;
            }
        };
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
        ManualScheduler time = new ManualScheduler();
        try (Sampler s = sampler(dir, (n, w) -> Optional.empty(), time, inline())) {
            s.apply(Map.of("good", sensor("good", 20, Bus.NONE, null), "bad", sensor("bad", 20, Bus.NONE, null)));
            time.advance(Duration.ofMillis(2000));
            SensorRunner bad = s.sensors().get("bad");
            assertEquals(SensorRunner.State.FAILED, bad.state());
            assertEquals("NACK", bad.lastError());
            // Without back-off 101 tries in 2 s (0, 20, ... 2000 ms); with it the tries are at 0, 20,
            // 60, 140, 300, 620 and 1260 ms: each wait twice the one before, from 2 intervals on.
            assertEquals(7, driver.calls("bad"), "tries of the failing sensor in 2s");
            assertEquals(101, count("good"), "the good sensor on its 20ms interval, at 0, 20, ... 2000 ms");
            assertEquals(SensorRunner.State.OK, s.sensors().get("good").state());
            // The next try is at 2540 ms (1260 + 1280), not before.
            time.advance(Duration.ofMillis(539));
            assertEquals(7, driver.calls("bad"));
            time.advance(Duration.ofMillis(1));
            assertEquals(8, driver.calls("bad"));
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
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        driver.reads.put("hung", () -> {
            entered.countDown();
            Thread.sleep(Long.MAX_VALUE);
            return ONE;
        });
        ManualScheduler time = new ManualScheduler();
        // The good sensor reads on the timer's (this) thread; the hung one on a thread of its own, as in the agent.
        ExecutorService own = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        ExecutorService inline = inline();
        ExecutorService readers = new java.util.concurrent.AbstractExecutorService() {
            @Override
            public void execute(Runnable r) {
                (hungFiring.get() ? own : inline).execute(r);
            }

            @Override
            public void shutdown() {
                own.shutdown();
            }

            @Override
            public List<Runnable> shutdownNow() {
                return own.shutdownNow();
            }

            @Override
            public boolean isShutdown() {
                return own.isShutdown();
            }

            @Override
            public boolean isTerminated() {
                return own.isTerminated();
            }

            @Override
            public boolean awaitTermination(long t, TimeUnit u) throws InterruptedException {
                return own.awaitTermination(t, u);
            }
        };
        try (Sampler s = sampler(dir, (n, w) -> Optional.empty(), time, readers)) {
            hungFiring.set(true);
            s.apply(Map.of("hung", sensor("hung", 200, Bus.NONE, null)));
            time.runDue();
            assertTrue(entered.await(10, TimeUnit.SECONDS), "the hung read began");
            hungFiring.set(false);
            s.apply(Map.of("hung", sensor("hung", 200, Bus.NONE, null), "good", sensor("good", 50, Bus.NONE, null)));
            SensorRunner hung = s.sensors().get("hung");
            // The timeout is the interval, at least 2 s, plus the lock wait (100 ms): not yet at 2099 ms.
            time.advance(Duration.ofMillis(2099));
            assertEquals(0, hung.timeouts());
            time.advance(Duration.ofMillis(1));
            assertEquals(1, hung.timeouts(), "the hung read timed out at 2100 ms");
            assertTrue(hung.lastError().contains("timed out"), hung.lastError());
            assertEquals(SensorRunner.State.FAILING, hung.state(), hung.errors() + " errors, last: " + hung.lastError());
            assertEquals(10, hung.overruns(), "firings at 200, 400, ... 2000 ms while the read hung were skipped");
            assertEquals(43, count("good"), "the good sensor, at 0, 50, ... 2100 ms");
            assertEquals(0, count("hung"));
        } finally {
            own.shutdownNow();
        }
    }

    /** Waits (10 s at most) for what another thread does. */
    static void until(java.util.function.BooleanSupplier done) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "not within 10 s");
            Thread.sleep(5);
        }
    }

    private final java.util.concurrent.atomic.AtomicBoolean hungFiring = new java.util.concurrent.atomic.AtomicBoolean();

    @Test
    void aReadingWithoutItsLockIsSkippedAndCountedNeverTaken(@TempDir Path dir) throws Exception {
        driver.reads.put("locked", () -> ONE);
        AtomicInteger asked = new AtomicInteger();
        SensorRunner.LockSource never = (name, wait) -> {
            asked.incrementAndGet();
            if (asked.get() % 2 == 0) throw new LockException("lock " + name + ": not connected to ZooKeeper");
            return Optional.empty(); // did not come free within the wait
        };
        ManualScheduler time = new ManualScheduler();
        try (Sampler s = sampler(dir, never, time, inline())) {
            s.apply(Map.of("locked", sensor("locked", 100, new Bus.I2c(1, 0x76), "site/i2c-1/0x76")));
            time.advance(Duration.ofMillis(1000));
            SensorRunner r = s.sensors().get("locked");
            assertEquals(11, asked.get(), "lock asked for at 0, 100, ... 1000 ms");
            assertEquals(11, r.lockSkips());
            assertEquals(0, driver.calls("locked"), "the hardware was touched without the lock");
            assertEquals(0, count("locked"));
            assertEquals(0, r.errors(), "a skipped reading is not a driver error");
        }
    }

    @Test
    void aLockWaitThatHangsIsASkippedReadingNotADriverFailure(@TempDir Path dir) throws Exception {
        // The ensemble goes while the lock is being taken: Curator's call hangs until it is interrupted.
        driver.reads.put("locked", () -> ONE);
        AtomicInteger asked = new AtomicInteger();
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1), interrupted = new java.util.concurrent.CountDownLatch(1);
        SensorRunner.LockSource hangsOnce = (name, wait) -> {
            if (asked.incrementAndGet() > 1) return Optional.empty();
            entered.countDown();
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                interrupted.countDown();
                throw e;
            }
            return Optional.empty();
        };
        ManualScheduler time = new ManualScheduler();
        ExecutorService own = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        try (Sampler s = sampler(dir, hangsOnce, time, own)) {
            s.apply(Map.of("locked", sensor("locked", 100, new Bus.I2c(1, 0x76), "site/i2c-1/0x76")));
            time.runDue();
            assertTrue(entered.await(10, TimeUnit.SECONDS), "the lock wait began");
            SensorRunner r = s.sensors().get("locked");
            time.advance(Duration.ofMillis(2100)); // the watchdog: 2 s read timeout plus the 100 ms lock wait
            assertTrue(interrupted.await(10, TimeUnit.SECONDS), "the hung lock wait was not interrupted");
            until(() -> r.lockSkips() >= 1); // 2 when the firing at 2100 ms came after the interrupted reader had returned
            assertEquals(0, r.errors(), "a lock ZooKeeper did not answer for is not a driver error");
            assertEquals(0, r.timeouts());
            assertEquals(SensorRunner.State.STARTING, r.state(), "the sensor was never read, nor did it fail");
            // The next interval asks for the lock again (once the interrupted reader has returned).
            for (int i = 0; i < 50 && asked.get() < 2; i++) {
                time.advance(Duration.ofMillis(100));
                Thread.sleep(5);
            }
            assertEquals(2, asked.get(), "the lock was not asked for again within 5 s of the sensor's time");
            assertEquals(0, driver.calls("locked"), "the hardware was touched without the lock");
        } finally {
            own.shutdownNow();
        }
    }

    @Test
    void pushedSamplesAreNumberedWithTheReadOnes(@TempDir Path dir) throws Exception {
        driver.reads.put("edge", () -> ONE);
        ManualScheduler time = new ManualScheduler();
        try (Sampler s = sampler(dir, (n, w) -> Optional.empty(), time, inline())) {
            s.apply(Map.of("edge", sensor("edge", 60_000, Bus.NONE, null)));
            time.runDue(); // the first read opens the sensor
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
    void sensorsOfOneIntervalAreReadInOneTickAndALaterOneJoinsTheGrid(@TempDir Path dir) throws Exception {
        driver.reads.put("a", () -> ONE);
        driver.reads.put("b", () -> ONE);
        driver.reads.put("c", () -> ONE);
        ManualScheduler time = new ManualScheduler();
        try (Sampler s = sampler(dir, (n, w) -> Optional.empty(), time, inline())) {
            s.apply(Map.of("a", sensor("a", 1000, Bus.NONE, null), "b", sensor("b", 1000, Bus.NONE, null)));
            time.advance(Duration.ofMillis(300));
            assertEquals(2, taken.size(), "both read at once when started");
            // Added 300 ms into the second: read at once, then on the others' ticks.
            s.apply(Map.of("a", sensor("a", 1000, Bus.NONE, null), "b", sensor("b", 1000, Bus.NONE, null),
                    "c", sensor("c", 1000, Bus.NONE, null)));
            time.runDue();
            assertEquals(1, count("c"));
            time.advance(Duration.ofMillis(699));
            assertEquals(3, taken.size(), "nothing between the ticks");
            time.advance(Duration.ofMillis(1));
            assertEquals(List.of(2L, 2L, 2L), List.of(count("a"), count("b"), count("c")), "all three on the tick at 1000 ms");
            assertEquals(3, time.pending(), "one timer task a sensor: each read's watchdog is cancelled when the read ends");
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
            until(() -> count("a") + count("b") + count("c") >= 40); // enough turns for an overlap to show
        }
        assertEquals(1, worst.get(), "two reads on /dev/i2c-1 at once");
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
