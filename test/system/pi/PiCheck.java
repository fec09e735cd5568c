import dev.meerkat.config.Bus;
import dev.meerkat.config.Json;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.Drivers;
import dev.meerkat.drivers.Sample;
import dev.meerkat.drivers.Sensor;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.pi4j.Pi4jBuses;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Meerkat's GPIO drivers through the real kernel path, inside the emulated Pi of {@code pi-test.sh}:
 * {@code gpio-input} and {@code gpio-output} opened by the agent's own {@link Pi4jBuses} (Pi4J's
 * gpiod plugin, its aarch64 natives, libgpiod, {@code /dev/gpiochip0}) on a simulated chip
 * ({@code gpio-sim}, labelled {@code pinctrl-bcm2835}) whose lines the check drives and reads from
 * the kernel's side through sysfs: {@code sim_gpioN/pull} drives an input as a wire would,
 * {@code sim_gpioN/value} shows what an output drives.
 *
 * <p>With {@code e2e}, the other half of the agent end to end ({@code guest.sh} runs {@code meerkat
 * run} with a locked gpio-input sensor on line 5): subscribes to the sensor's topic, drives the line,
 * and checks the readings that reach the broker.
 *
 * <p>One line per check, {@code PICHECK PASS ...} or {@code PICHECK FAIL ...}, and
 * {@code PICHECK END passed failed}. Usage: {@code java -cp 'lib/*:DIR' PiCheck SIM_SYSFS_DIR}, or
 * {@code PiCheck e2e SIM_SYSFS_DIR MQTT_URI TOPIC}.
 */
public final class PiCheck {
    private static final Drivers DRIVERS = Drivers.load();
    /** Edge events come on Pi4J's thread; under emulation they may take a while. */
    private static final Duration SETTLE = Duration.ofMillis(1500);
    private static Path sim;
    private static int passed, failed;

    public static void main(String[] args) throws Exception {
        if (args[0].equals("e2e")) {
            endToEnd(Path.of(args[1]), args[2], args[3]);
            return;
        }
        sim = Path.of(args[0]);
        System.out.println("PICHECK INFO os.arch=" + System.getProperty("os.arch") + " java=" + System.getProperty("java.version")
                + " model=" + read(Path.of("/proc/device-tree/model")).replace("\0", ""));
        try (Pi4jBuses buses = new Pi4jBuses(Path.of("/dev"))) {
            DriverContext ctx = new DriverContext(Clock.systemUTC(), "pi", buses);
            group("gpio-output", () -> output(ctx));
            group("gpio-input levels and edges", () -> inputLevelsAndEdges(ctx));
            group("gpio-input pulls", () -> pulls(ctx));
            group("gpio-input pushed edges", () -> pushedEdges(ctx));
            group("gpio-input debounce", () -> debounce(ctx));
            group("gpio-input on a missing line", () -> missingLine(ctx));
            if (args.length > 1 && args[1].equals("i2c")) group("i2c", () -> i2c(ctx, buses));
        }
        System.out.println("PICHECK END " + passed + " " + failed);
        System.exit(failed == 0 ? 0 : 1);
    }

    interface Checks {
        void run() throws Exception;
    }

    /** Runs a group of checks; one that throws fails there, and the next group still runs. */
    static void group(String name, Checks checks) {
        try {
            checks.run();
        } catch (Exception e) {
            check(name + " ran through", false, e.toString());
            e.printStackTrace(System.out);
        }
    }

    /** gpio-output: the level the config sets is what the kernel sees the line driven at, and what the reading says. */
    static void output(DriverContext ctx) throws Exception {
        try (Sensor s = open(ctx, "gpio-output", 17, "{\"level\": \"low\"}")) {
            check("gpio-output low: the kernel sees line 17 driven low, the reading says 0",
                    value(17) == 0 && level(s.read()) == 0, "kernel " + value(17) + ", reading " + s.read().values());
        }
        try (Sensor s = open(ctx, "gpio-output", 17, "{\"level\": \"high\"}")) {
            check("gpio-output high (the sensor reopened, as a config change does): the kernel sees line 17 driven high, the reading says 1",
                    value(17) == 1 && level(s.read()) == 1, "kernel " + value(17) + ", reading " + s.read().values());
        }
        // Stopped: the line is released. gpio-sim then gives it its pull, as mainline pinctrl-bcm2835
        // puts a released pin back to input (Raspberry Pi OS's kernel keeps the level instead).
        drive(17, false);
        int low = value(17);
        drive(17, true);
        int high = value(17);
        check("gpio-output: the sensor stopped, the line is released (no longer driven: it follows its pull, low then high)",
                low == 0 && high == 1, "kernel " + low + " then " + high);
    }

    /** gpio-input: the level a wire drives, and every edge counted between two readings. */
    static void inputLevelsAndEdges(DriverContext ctx) throws Exception {
        drive(5, false);
        try (Sensor s = open(ctx, "gpio-input", 5, "{\"debounce\": \"0ms\"}")) {
            check("gpio-input: line 5 pulled low from outside reads 0", level(s.read()) == 0, s.read().values().toString());
            drive(5, true);
            Thread.sleep(SETTLE.toMillis());
            Sample a = s.read();
            check("gpio-input: line 5 driven high from outside reads 1, with its rising edge counted", level(a) == 1 && edges(a) == 1, a.values().toString());
            drive(5, false);
            drive(5, true);
            drive(5, false);
            Thread.sleep(SETTLE.toMillis());
            Sample b = s.read();
            check("gpio-input edge both: three changes, three edges counted, level 0", level(b) == 0 && edges(b) == 3, b.values().toString());
            Sample c = s.read();
            check("gpio-input: the count starts again at each reading", edges(c) == 0, c.values().toString());
        }
        try (Sensor s = open(ctx, "gpio-input", 5, "{\"debounce\": \"0ms\", \"edge\": \"falling\"}")) {
            drive(5, true);
            drive(5, false);
            drive(5, true);
            drive(5, false);
            Thread.sleep(SETTLE.toMillis());
            Sample a = s.read();
            check("gpio-input edge falling: two of four changes counted", edges(a) == 2, a.values().toString());
        }
    }

    /** pull: Meerkat's setting reaches the kernel as the line's bias, and an undriven line reads it. */
    static void pulls(DriverContext ctx) throws Exception {
        try (Sensor s = open(ctx, "gpio-input", 6, "{\"pull\": \"up\"}")) {
            String bias = read(sim.resolve("sim_gpio6/pull")).trim();
            check("gpio-input pull up: the kernel has line 6 pulled up, and it reads 1", bias.equals("pull-up") && level(s.read()) == 1,
                    "bias " + bias + ", reading " + s.read().values());
        }
        try (Sensor s = open(ctx, "gpio-input", 6, "{\"pull\": \"down\"}")) {
            String bias = read(sim.resolve("sim_gpio6/pull")).trim();
            check("gpio-input pull down: the kernel has line 6 pulled down, and it reads 0", bias.equals("pull-down") && level(s.read()) == 0,
                    "bias " + bias + ", reading " + s.read().values());
        }
    }

    /** report edges: each counted edge pushed as it happens, with edges 1. */
    static void pushedEdges(DriverContext ctx) throws Exception {
        drive(7, false);
        List<Sample> pushed = new CopyOnWriteArrayList<>();
        try (Sensor s = open(ctx, "gpio-input", 7, "{\"report\": \"edges\", \"edge\": \"rising\", \"debounce\": \"0ms\"}")) {
            s.listen(pushed::add);
            drive(7, true);
            drive(7, false);
            drive(7, true);
            drive(7, false);
            Thread.sleep(SETTLE.toMillis());
            check("gpio-input report edges, edge rising: two readings pushed, each level 1 with edges 1",
                    pushed.size() == 2 && pushed.stream().allMatch(p -> level(p) == 1 && edges(p) == 1), pushed.stream().map(Sample::values).toList().toString());
        }
    }

    /** debounce: a pulse (200 ms) shorter than the period is not an edge; a change that stays is one. */
    static void debounce(DriverContext ctx) throws Exception {
        drive(8, false);
        try (Sensor s = open(ctx, "gpio-input", 8, "{\"debounce\": \"800ms\"}")) {
            drive(8, true);
            drive(8, false);
            Thread.sleep(SETTLE.toMillis());
            Sample a = s.read();
            check("gpio-input debounce 800ms: a 200 ms pulse counts no edge", edges(a) == 0 && level(a) == 0, a.values().toString());
            drive(8, true);
            Thread.sleep(SETTLE.toMillis());
            Sample b = s.read();
            check("gpio-input debounce 800ms: a change that stays counts one edge", edges(b) == 1 && level(b) == 1, b.values().toString());
        }
    }

    // --- I2C: chips as register files on /dev/i2c-1 (meerkat-i2c-sim), loaded through the bus itself ---

    // The BMP280/BME280 datasheets' worked example (BMP280 DS001 section 3.12): trimming and raw values.
    static final int[] T = {27504, 26435, -1000};
    static final int[] P = {36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000};
    static final int ADC_T = 519888, ADC_P = 415148, ADC_H = 30000;
    // Humidity trimming of a real chip (the datasheet gives no humidity example): H1..H6.
    static final int[] H = {75, 362, 0, 324, 50, 30};

    static void i2c(DriverContext ctx, Pi4jBuses buses) throws Exception {
        // BME280 at 0x76: chip id, status idle, calibration (0x88-0xA1, 0xE1-0xE7), raw data (0xF7-0xFE).
        byte[] b88 = new byte[26];
        int i = 0;
        for (int v : T) { b88[i++] = (byte) v; b88[i++] = (byte) (v >> 8); }
        for (int v : P) { b88[i++] = (byte) v; b88[i++] = (byte) (v >> 8); }
        b88[25] = (byte) H[0];
        byte[] be1 = {(byte) H[1], (byte) (H[1] >> 8), (byte) H[2], (byte) (H[3] >> 4), (byte) ((H[3] & 0x0F) | (H[4] & 0x0F) << 4), (byte) (H[4] >> 4), (byte) H[5]};
        byte[] data = {(byte) (ADC_P >> 12), (byte) (ADC_P >> 4), (byte) ((ADC_P & 0xF) << 4), (byte) (ADC_T >> 12), (byte) (ADC_T >> 4),
                (byte) ((ADC_T & 0xF) << 4), (byte) (ADC_H >> 8), (byte) ADC_H};
        load(buses, 0x76, 0x88, b88);
        load(buses, 0x76, 0xE1, be1);
        load(buses, 0x76, 0xD0, new byte[] {0x60});
        load(buses, 0x76, 0xF3, new byte[] {0});
        load(buses, 0x76, 0xF7, data);
        try (Sensor s = openI2c(ctx, "bme280", 0x76, "{\"oversampling\": 4}")) {
            Sample a = s.read();
            double h = Math.round(intHumidityQ22_10(ADC_H, intTFine(ADC_T)) / 1024.0 * 100) / 100.0;
            check("bme280 on /dev/i2c-1 0x76: the datasheet's worked example, 25.08 Cel and 1006.53 hPa, and humidity " + h + " %RH by its integer formula",
                    a.values().get("temperature") == 25.08 && a.values().get("pressure") == 1006.53 && Math.abs(a.values().get("humidity") - h) < 0.011,
                    a.values().toString());
            int hum = register(buses, 0x76, 0xF2, 1)[0] & 0xFF, meas = register(buses, 0x76, 0xF4, 1)[0] & 0xFF;
            check("bme280: the driver wrote ctrl_hum x4 (0x03) and ctrl_meas x4, x4, forced (0x6d), as the datasheet codes them",
                    hum == 0x03 && meas == 0x6D, String.format("ctrl_hum 0x%02x ctrl_meas 0x%02x", hum, meas));
        }
        load(buses, 0x76, 0xD0, new byte[] {0x58});
        try (Sensor s = openI2c(ctx, "bme280", 0x76, "{}")) {
            check("bme280 with chip id 0x58 refused", false, "it opened");
        } catch (DriverException e) {
            check("bme280 with chip id 0x58: refused as a BMP280, permanently", e.permanent() && e.getMessage().contains("BMP280"), e.getMessage());
        }
        load(buses, 0x76, 0xD0, new byte[] {0x60});

        // SHT3x at 0x44: the 16-bit command (medium repeatability, 0x240B) addresses its six bytes.
        byte[] good = sht3x(0x6666, 0x8000, false), bad = sht3x(0x6666, 0x8000, true);
        load(buses, 0x44, 0x240B, good);
        try (Sensor s = openI2c(ctx, "sht3x", 0x44, "{\"repeatability\": \"medium\"}")) {
            Sample a = s.read();
            check("sht3x on /dev/i2c-1 0x44: raw 0x6666 and 0x8000 read as 25.0 Cel and 50.0 %RH (datasheet 4.13)",
                    a.values().get("temperature") == 25.0 && a.values().get("humidity") == 50.0, a.values().toString());
            load(buses, 0x44, 0x240B, bad);
            try {
                check("sht3x: a bad CRC on the humidity word is detected", false, "read " + s.read().values());
            } catch (DriverException e) {
                check("sht3x: a bad CRC on the humidity word is detected, as a transient error",
                        !e.permanent() && e.getMessage().contains("CRC") && e.getMessage().contains("humidity"), e.getMessage());
            }
            load(buses, 0x44, 0x240B, good);
        }

        // ADS1115 at 0x48: the pointer selects a 16-bit register (conversion 0x00, config 0x01).
        int raw = 9872; // 1.234 V at the 4.096 V full scale
        load(buses, 0x48, 0x00, new byte[] {(byte) (raw >> 8), (byte) raw});
        try (Sensor s = openI2c(ctx, "ads1115", 0x48, "{\"channel\": 1, \"fullScale\": \"4.096\", \"dataRate\": 860}")) {
            Sample a = s.read();
            byte[] cfg = register(buses, 0x48, 0x01, 2);
            int config = (cfg[0] & 0xFF) << 8 | (cfg[1] & 0xFF);
            check("ads1115 on /dev/i2c-1 0x48: raw 9872 at 4.096 V full scale reads 1.234 V", a.values().get("voltage") == 1.234, a.values().toString());
            check("ads1115: the config written is the datasheet's for a single shot of AIN1 against GND, 4.096 V, 860 SPS (0xd3e3)",
                    config == 0xD3E3, String.format("0x%04x", config));
        }

        // BH1750 at 0x23: the opcode (one-time high resolution, 0x20) addresses its two bytes.
        load(buses, 0x23, 0x20, new byte[] {0x03, (byte) 0xE8});
        try (Sensor s = openI2c(ctx, "bh1750", 0x23, "{}")) {
            Sample a = s.read();
            check("bh1750 on /dev/i2c-1 0x23: 1000 counts read as 833.3 lx (count / 1.2)", a.values().get("illuminance") == 833.3, a.values().toString());
        }

        // Nothing at 0x77: the driver's error names the bus and the address and says NACK.
        try (Sensor s = openI2c(ctx, "bme280", 0x77, "{}")) {
            check("bme280 at 0x77, where there is no chip, fails", false, "it opened: " + s.read().values());
        } catch (DriverException e) {
            check("bme280 at 0x77, where there is no chip: Meerkat's \"NACK or bus error\" message, naming /dev/i2c-1 0x77",
                    e.getMessage().contains("/dev/i2c-1 0x77") && e.getMessage().contains("NACK or bus error"), e.getMessage());
        }
    }

    static byte[] sht3x(int t, int rh, boolean badHumidityCrc) {
        byte[] d = {(byte) (t >> 8), (byte) t, 0, (byte) (rh >> 8), (byte) rh, 0};
        d[2] = (byte) crc8(d, 0);
        d[5] = (byte) (crc8(d, 3) ^ (badHumidityCrc ? 0x01 : 0));
        return d;
    }

    /** The SHT3x datasheet's CRC-8 (section 4.12): polynomial 0x31, initial 0xFF. */
    static int crc8(byte[] d, int from) {
        int crc = 0xFF;
        for (int i = from; i < from + 2; i++) {
            crc ^= d[i] & 0xFF;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 0x80) != 0 ? ((crc << 1) ^ 0x31) & 0xFF : (crc << 1) & 0xFF;
        }
        return crc;
    }

    /** The datasheet's integer formulas (BME280 section 4.2.3), independent of the driver's double ones. */
    static int intTFine(int adcT) {
        int var1 = (((adcT >> 3) - (T[0] << 1)) * T[1]) >> 11;
        int var2 = (((((adcT >> 4) - T[0]) * ((adcT >> 4) - T[0])) >> 12) * T[2]) >> 14;
        return var1 + var2;
    }

    static int intHumidityQ22_10(int adcH, int tFine) {
        int v = tFine - 76800;
        v = (((((adcH << 14) - (H[3] << 20) - (H[4] * v)) + 16384) >> 15)
                * (((((((v * H[5]) >> 10) * (((v * H[2]) >> 11) + 32768)) >> 10) + 2097152) * H[1] + 8192) >> 14));
        v = v - (((((v >> 15) * (v >> 15)) >> 7) * H[0]) >> 4);
        v = Math.max(0, Math.min(419430400, v));
        return v >> 12;
    }

    /** Stores bytes at a register of a simulated chip, through the bus (a 16-bit address for the SHT3x's commands). */
    static void load(Pi4jBuses buses, int address, int register, byte[] bytes) throws Exception {
        int n = register > 0xFF ? 2 : 1;
        byte[] w = new byte[n + bytes.length];
        if (n == 2) w[0] = (byte) (register >> 8);
        w[n - 1] = (byte) register;
        System.arraycopy(bytes, 0, w, n, bytes.length);
        var dev = buses.i2c(1, address);
        try {
            dev.write(w);
        } finally {
            dev.close();
        }
    }

    /** What a simulated chip holds at a register now (what the driver wrote there). */
    static byte[] register(Pi4jBuses buses, int address, int register, int length) throws Exception {
        var dev = buses.i2c(1, address);
        try {
            byte[] b = new byte[length];
            dev.readRegisters(register, b);
            return b;
        } finally {
            dev.close();
        }
    }

    static Sensor openI2c(DriverContext ctx, String driver, int address, String settings) throws Exception {
        SensorConfig c = new SensorConfig("i2c" + address, driver, new Bus.I2c(1, address), Duration.ofSeconds(1), Optional.empty(), OptionalInt.empty(),
                Json.tree(settings.getBytes(StandardCharsets.UTF_8)));
        return DRIVERS.get(driver).orElseThrow().open(c, ctx);
    }

    /** A line the chip does not have: a permanent error that names the line. */
    static void missingLine(DriverContext ctx) {
        try (Sensor s = open(ctx, "gpio-input", 60, "{}")) {
            check("gpio-input on line 60 of a 54-line chip fails", false, "it opened: " + s.read().values());
        } catch (DriverException e) {
            check("gpio-input on line 60 of a 54-line chip: a permanent error naming the line", e.permanent() && e.getMessage().contains("line 60"), e.getMessage());
        } catch (Exception e) {
            check("gpio-input on line 60: a DriverException", false, e.toString());
        }
    }

    /**
     * A real agent's readings from the broker: {@code door} (gpio-input, line 5) as the line is driven
     * from outside, and {@code air} (sht3x at 0x44 under the lock {@code pi/i2c-1/0x44}) with the
     * values its register map holds and the lock's fencing token; and the bus lock file, held here
     * for a while (a POSIX record lock, as another program sharing the bus would take), holds the
     * agent's reads of that bus back.
     */
    static void endToEnd(Path simDir, String uri, String prefix) throws Exception {
        sim = simDir;
        java.util.concurrent.BlockingQueue<com.fasterxml.jackson.databind.JsonNode> door = new java.util.concurrent.LinkedBlockingQueue<>();
        List<com.fasterxml.jackson.databind.JsonNode> air = new CopyOnWriteArrayList<>();
        org.eclipse.paho.client.mqttv3.MqttClient c = new org.eclipse.paho.client.mqttv3.MqttClient(uri, "picheck",
                new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
        c.connect();
        c.subscribe(prefix + "door", 1, (t, m) -> door.add(Json.tree(m.getPayload())));
        c.subscribe(prefix + "air", 1, (t, m) -> air.add(Json.tree(m.getPayload())));
        com.fasterxml.jackson.databind.JsonNode first = door.poll(300, java.util.concurrent.TimeUnit.SECONDS);
        check("e2e: the agent's gpio-input readings reach the broker", first != null, "none in 300 s on " + prefix + "door");
        await(() -> !air.isEmpty(), Duration.ofSeconds(60));
        check("e2e: the agent's sht3x readings reach the broker", !air.isEmpty(), "none on " + prefix + "air");
        if (first == null || air.isEmpty()) {
            System.out.println("PICHECK END " + passed + " " + failed);
            System.exit(1);
        }
        System.out.println("PICHECK INFO e2e first door reading: " + first);
        System.out.println("PICHECK INFO e2e first air reading: " + air.get(0));

        drive(5, true);
        com.fasterxml.jackson.databind.JsonNode high = null;
        long end = System.nanoTime() + Duration.ofSeconds(120).toNanos(), edges = 0;
        while (high == null && System.nanoTime() < end) {
            com.fasterxml.jackson.databind.JsonNode r = door.poll(5, java.util.concurrent.TimeUnit.SECONDS);
            if (r == null) continue;
            edges += r.path("values").path("edges").asLong();
            if (r.path("values").path("level").asDouble() == 1.0) high = r;
        }
        check("e2e: line 5 driven high from outside: a door reading with level 1 and its edge counted", high != null && edges == 1,
                "reading " + high + ", edges " + edges);
        check("e2e: door's seq grows", high != null && high.path("seq").asLong() > first.path("seq").asLong(), "first " + first + ", then " + high);

        com.fasterxml.jackson.databind.JsonNode cl = air.get(air.size() - 1);
        check("e2e: air reads 25.0 Cel and 50.0 %RH from the chip's registers",
                cl.path("values").path("temperature").asDouble() == 25.0 && cl.path("values").path("humidity").asDouble() == 50.0, cl.toString());
        check("e2e: air's readings carry the lock's fencing token (lockToken), taken in ZooKeeper",
                air.stream().allMatch(r -> r.path("lockToken").canConvertToLong() && r.path("lockToken").asLong() > 0), air.toString());

        // The bus lock file, held by another process (this one): the agent's reads of /dev/i2c-1 wait.
        Path lockFile = Path.of("/run/lock/meerkat-i2c-1.lock");
        check("e2e: the agent's bus lock file is " + lockFile, Files.exists(lockFile), "not there");
        if (Files.exists(lockFile)) {
            java.time.Instant from, to;
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(lockFile, java.nio.file.StandardOpenOption.WRITE);
                 java.nio.channels.FileLock l = ch.lock()) {
                from = java.time.Instant.now();
                Thread.sleep(6000);
                to = java.time.Instant.now();
            }
            int before = air.size();
            await(() -> air.size() > before + 1, Duration.ofSeconds(60));
            List<String> inside = air.stream().map(r -> java.time.Instant.parse(r.path("ts").asText()))
                    .filter(ts -> ts.isAfter(from.plusMillis(200)) && ts.isBefore(to)).map(Object::toString).toList();
            check("e2e: with the bus lock file held from outside for 6 s, no air reading was taken in that time, and they go on after",
                    inside.isEmpty() && air.size() > before + 1, "readings inside " + from + ".." + to + ": " + inside + "; after: " + (air.size() - before));
        }
        c.disconnect();
        c.close();
        System.out.println("PICHECK END " + passed + " " + failed);
        System.exit(failed == 0 ? 0 : 1);
    }

    static void await(java.util.function.BooleanSupplier done, Duration atMost) throws InterruptedException {
        long end = System.nanoTime() + atMost.toNanos();
        while (!done.getAsBoolean() && System.nanoTime() < end) Thread.sleep(200);
    }

    static Sensor open(DriverContext ctx, String driver, int line, String settings) throws Exception {
        SensorConfig c = new SensorConfig("s" + line, driver, new Bus.Gpio(line), Duration.ofSeconds(1), Optional.empty(), OptionalInt.empty(),
                Json.tree(settings.getBytes(StandardCharsets.UTF_8)));
        return DRIVERS.get(driver).orElseThrow().open(c, ctx);
    }

    /**
     * Drives an input line from outside, as a wire would (gpio-sim's pull), and holds it 200 ms:
     * gpio-sim raises its interrupt through a deferred work item, and two changes before it ran
     * would be one interrupt (a real pin's edges each interrupt).
     */
    static void drive(int line, boolean high) throws Exception {
        Files.writeString(sim.resolve("sim_gpio" + line + "/pull"), high ? "pull-up" : "pull-down");
        Thread.sleep(200);
    }

    /** The level on the line as the kernel has it. */
    static int value(int line) throws Exception {
        return Integer.parseInt(read(sim.resolve("sim_gpio" + line + "/value")).trim());
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.ISO_8859_1);
        } catch (Exception e) {
            return "(" + e + ")";
        }
    }

    static int level(Sample s) {
        return (int) Math.round(s.values().get("level"));
    }

    static int edges(Sample s) {
        return (int) Math.round(s.values().get("edges"));
    }

    static void check(String what, boolean ok, String detail) {
        if (ok) passed++;
        else failed++;
        System.out.println("PICHECK " + (ok ? "PASS " : "FAIL ") + what + (ok ? "" : ": " + detail));
        System.out.flush();
    }
}
