package dev.meerkat.drivers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meerkat.config.Bus;
import dev.meerkat.config.ConfigError;
import dev.meerkat.config.Fields;
import dev.meerkat.config.Json;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.bme280.Bme280Calibration;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.ds18b20.Ds18b20Driver;
import dev.meerkat.drivers.fakes.FakeAds1115;
import dev.meerkat.drivers.fakes.FakeBh1750;
import dev.meerkat.drivers.fakes.FakeBme280;
import dev.meerkat.drivers.fakes.FakeBuses;
import dev.meerkat.drivers.fakes.FakeSht3x;
import dev.meerkat.drivers.sht3x.Sht3xDriver;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The hardware drivers against fake chips that behave like their datasheets. */
class HardwareDriversTest {
    static final Drivers DRIVERS = Drivers.load();

    // The BMP280/BME280 datasheets' worked example (BMP280 DS001 section 3.12): trimming and raw values.
    static final int[] T = {27504, 26435, -1000};
    static final int[] P = {36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000};
    static final int ADC_T = 519888, ADC_P = 415148;
    // Humidity trimming of a real chip (the datasheet gives no humidity example): H1..H6.
    static final int[] H = {75, 362, 0, 324, 50, 30};

    static byte[] b88() {
        byte[] b = new byte[26];
        int i = 0;
        for (int v : T) { b[i++] = (byte) v; b[i++] = (byte) (v >> 8); }
        for (int v : P) { b[i++] = (byte) v; b[i++] = (byte) (v >> 8); }
        b[25] = (byte) H[0];
        return b;
    }

    static byte[] be1(int h4, int h5) {
        return new byte[] {(byte) H[1], (byte) (H[1] >> 8), (byte) H[2], (byte) (h4 >> 4), (byte) ((h4 & 0x0F) | (h5 & 0x0F) << 4),
                (byte) (h5 >> 4), (byte) H[5]};
    }

    static com.fasterxml.jackson.databind.JsonNode tree(String json) {
        try {
            return Json.mapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static SensorConfig sensor(String driver, Bus bus, String settings) {
        return new SensorConfig("s1", driver, bus, Duration.ofSeconds(1), Optional.empty(), OptionalInt.empty(), tree(settings));
    }

    static Sensor open(FakeBuses buses, SensorConfig c) throws DriverException {
        return DRIVERS.get(c.driver()).orElseThrow().open(c, new DriverContext(Clock.systemUTC(), "gw", buses));
    }

    static List<ConfigError> settingsErrors(String driver, String settings) {
        List<ConfigError> errors = new ArrayList<>();
        DRIVERS.checkSettings(driver, Fields.root(tree(settings), "/s", errors));
        return errors;
    }

    // --- BME280 -----------------------------------------------------------------------------

    /** The datasheet's integer formulas (section 4.2.3), as an independent check of the double ones the driver uses. */
    static int intTFine(int adcT) {
        int var1 = (((adcT >> 3) - (T[0] << 1)) * T[1]) >> 11;
        int var2 = (((((adcT >> 4) - T[0]) * ((adcT >> 4) - T[0])) >> 12) * T[2]) >> 14;
        return var1 + var2;
    }

    static long intPressureQ24_8(int adcP, int tFine) {
        long var1 = (long) tFine - 128000, var2 = var1 * var1 * P[5];
        var2 = var2 + ((var1 * P[4]) << 17);
        var2 = var2 + (((long) P[3]) << 35);
        var1 = ((var1 * var1 * P[2]) >> 8) + ((var1 * P[1]) << 12);
        var1 = ((((1L) << 47) + var1)) * P[0] >> 33;
        long p = 1048576 - adcP;
        p = (((p << 31) - var2) * 3125) / var1;
        var1 = (((long) P[8]) * (p >> 13) * (p >> 13)) >> 25;
        var2 = (((long) P[7]) * p) >> 19;
        return ((p + var1 + var2) >> 8) + (((long) P[6]) << 4);
    }

    static int intHumidityQ22_10(int adcH, int tFine, int h4, int h5) {
        int v = tFine - 76800;
        v = (((((adcH << 14) - (h4 << 20) - (h5 * v)) + 16384) >> 15)
                * (((((((v * H[5]) >> 10) * (((v * H[2]) >> 11) + 32768)) >> 10) + 2097152) * H[1] + 8192) >> 14));
        v = v - (((((v >> 15) * (v >> 15)) >> 7) * H[0]) >> 4);
        v = Math.max(0, Math.min(419430400, v));
        return v >> 12;
    }

    @Test
    void bme280CompensationMatchesTheDatasheetExample() {
        Bme280Calibration cal = Bme280Calibration.parse(b88(), be1(H[3], H[4]));
        assertEquals(27504, cal.t1());
        assertEquals(-1000, cal.t3());
        assertEquals(-7, cal.p6());
        assertEquals(324, cal.h4());
        assertEquals(50, cal.h5());
        double tFine = cal.tFine(ADC_T);
        assertEquals(128422, tFine, 0.0, "t_fine of the datasheet's example");
        assertEquals(25.08, cal.temperature(ADC_T), 0.005, "the datasheet's 25.08 °C");
        assertEquals(2508, (intTFine(ADC_T) * 5 + 128) >> 8, "the integer formula's 0.01 °C");
        // The example's table carries t_fine unrounded (100653.267 Pa, printed 100653.27); the formula
        // itself rounds t_fine to an integer first (100653.258 Pa).
        assertEquals(100653.27, cal.pressure(ADC_P, tFine), 0.015, "the datasheet's 100653.27 Pa");
        assertEquals(cal.pressure(ADC_P, tFine), intPressureQ24_8(ADC_P, intTFine(ADC_T)) / 256.0, 0.01);
        for (int adcH : new int[] {20000, 26000, 30000, 35000, 42000}) {
            double h = cal.humidity(adcH, tFine);
            assertEquals(intHumidityQ22_10(adcH, intTFine(ADC_T), H[3], H[4]) / 1024.0, h, 0.02, "humidity at adc_H=" + adcH);
        }
    }

    @Test
    void bme280HumidityTrimmingWithNegativeH4AndH5() {
        Bme280Calibration cal = Bme280Calibration.parse(b88(), be1(-100, -40));
        assertEquals(-100, cal.h4());
        assertEquals(-40, cal.h5());
        double tFine = cal.tFine(ADC_T);
        assertEquals(intHumidityQ22_10(12000, intTFine(ADC_T), -100, -40) / 1024.0, cal.humidity(12000, tFine), 0.02);
    }

    @Test
    void bme280ForcedReadingThroughTheBus() throws Exception {
        FakeBme280 chip = new FakeBme280(b88(), be1(H[3], H[4]));
        chip.adcT = ADC_T;
        chip.adcP = ADC_P;
        chip.adcH = 30000;
        FakeBuses buses = new FakeBuses();
        buses.i2c.put(0x76, chip);
        try (Sensor s = open(buses, sensor("bme280", new Bus.I2c(1, 0x76), "{\"oversampling\": 4}"))) {
            Sample a = s.read();
            assertEquals(25.08, a.values().get("temperature"));
            assertEquals(1006.53, a.values().get("pressure"));
            assertEquals(Math.round(intHumidityQ22_10(30000, intTFine(ADC_T), H[3], H[4]) / 1024.0 * 100) / 100.0, a.values().get("humidity"), 0.011);
            assertEquals("hPa", a.units().get("pressure"));
            assertEquals(0, chip.readsWhileMeasuring, "read the data registers while the chip was measuring");
            // A chip slower than its datasheet's maximum: the driver polls the status and still reads the new values.
            chip.slowFactor = 1.6;
            chip.adcT = ADC_T + 1000;
            assertTrue(s.read().values().get("temperature") > 25.08);
            assertEquals(0, chip.readsWhileMeasuring);
            chip.stuck = true;
            DriverException e = assertThrows(DriverException.class, s::read);
            assertFalse(e.permanent(), "a stuck bus may free itself");
        }
        // Humidity skipped: no humidity value, nothing made up.
        FakeBme280 chip2 = new FakeBme280(b88(), be1(H[3], H[4]));
        chip2.adcT = ADC_T;
        chip2.adcP = ADC_P;
        buses.i2c.put(0x77, chip2);
        try (Sensor s = open(buses, sensor("bme280", new Bus.I2c(1, 0x77), "{\"humidity\": 0}"))) {
            assertEquals(List.of("temperature", "pressure"), List.copyOf(s.read().values().keySet()));
        }
    }

    @Test
    void bme280RefusesAnotherChip() {
        FakeBme280 chip = new FakeBme280(b88(), be1(H[3], H[4]));
        chip.chipId = 0x58;
        FakeBuses buses = new FakeBuses();
        buses.i2c.put(0x76, chip);
        DriverException e = assertThrows(DriverException.class, () -> open(buses, sensor("bme280", new Bus.I2c(1, 0x76), "{}")));
        assertTrue(e.permanent());
        assertTrue(e.getMessage().contains("BMP280"), e.getMessage());
        assertTrue(chip.closed, "the bus is closed after a failed open");
    }

    @Test
    void settingsAndBusesAreChecked() {
        assertEquals("$.oversampling", settingsErrors("bme280", "{\"oversampling\": 3}").get(0).path());
        assertEquals("$.temperature", settingsErrors("bme280", "{\"temperature\": 0}").get(0).path());
        assertEquals("$.repeatability", settingsErrors("sht3x", "{\"repeatability\": \"ultra\"}").get(0).path());
        assertEquals("$.dataRate", settingsErrors("ads1115", "{\"dataRate\": 100}").get(0).path());
        assertEquals("$.colour", settingsErrors("bh1750", "{\"colour\": 1}").get(0).path());
        assertEquals("$.debounce", settingsErrors("gpio-input", "{\"debounce\": \"5s\"}").get(0).path());
        assertTrue(settingsErrors("bme280", "{\"oversampling\": 16, \"humidity\": 0}").isEmpty());
        assertTrue(DRIVERS.checkBus("bme280", new Bus.I2c(1, 0x40)).contains("0x76 or 0x77"));
        assertTrue(DRIVERS.checkBus("sht3x", new Bus.Gpio(4)).contains("needs an i2c bus"));
        assertTrue(DRIVERS.checkBus("ds18b20", new Bus.OneWire("10-000000000001")).contains("28-"));
        assertTrue(DRIVERS.checkBus("simulated", new Bus.Gpio(4)).contains("uses no bus"));
        assertNull(DRIVERS.checkBus("gpio-input", new Bus.Gpio(17)));
        assertNull(DRIVERS.checkBus("ads1115", new Bus.I2c(1, 0x4B)));
    }

    // --- SHT3x ------------------------------------------------------------------------------

    @Test
    void sht3xCrcOfTheDatasheet() {
        assertEquals(0x92, Sht3xDriver.crc8(new byte[] {(byte) 0xBE, (byte) 0xEF}, 0, 2), "CRC-8 of 0xBEEF is 0x92 (datasheet 4.12)");
    }

    @Test
    void sht3xSingleShot() throws Exception {
        FakeSht3x chip = new FakeSht3x();
        chip.rawT = 0x6666;
        chip.rawRh = 0x8000;
        FakeBuses buses = new FakeBuses();
        buses.i2c.put(0x44, chip);
        try (Sensor s = open(buses, sensor("sht3x", new Bus.I2c(1, 0x44), "{\"repeatability\": \"medium\"}"))) {
            Sample a = s.read();
            assertEquals(25.0, a.values().get("temperature"));
            assertEquals(50.0, a.values().get("humidity"));
            assertEquals(0, chip.nacks, "read before the measurement was done");
            chip.badCrc = true;
            DriverException e = assertThrows(DriverException.class, s::read);
            assertTrue(e.getMessage().contains("CRC") && e.getMessage().contains("humidity"), e.getMessage());
            assertFalse(e.permanent());
            chip.badCrc = false;
            chip.slowFactor = 3; // slower than its datasheet: the chip NACKs, the reading fails, the next one may work
            assertThrows(DriverException.class, s::read);
            chip.slowFactor = 1;
            assertEquals(25.0, s.read().values().get("temperature"));
        }
    }

    // --- ADS1115, BH1750 --------------------------------------------------------------------

    @Test
    void ads1115SingleShotOnAChannel() throws Exception {
        FakeAds1115 chip = new FakeAds1115();
        chip.volts[1] = 1.234;
        chip.volts[2] = 3.3;
        FakeBuses buses = new FakeBuses();
        buses.i2c.put(0x48, chip);
        try (Sensor s = open(buses, sensor("ads1115", new Bus.I2c(1, 0x48), "{\"channel\": 1, \"fullScale\": \"4.096\", \"dataRate\": 860}"))) {
            assertEquals(1.234, s.read().values().get("voltage"), 4.096 / 32768);
        }
        try (Sensor s = open(buses, sensor("ads1115", new Bus.I2c(1, 0x48), "{\"channel\": 2, \"dataRate\": 475}"))) {
            assertEquals(2.048 * 32767 / 32768, s.read().values().get("voltage"), 1e-6, "3.3 V clips at the 2.048 V full scale");
        }
    }

    @Test
    void bh1750OneTimeHighResolution() throws Exception {
        FakeBh1750 chip = new FakeBh1750();
        chip.count = 1000;
        FakeBuses buses = new FakeBuses();
        buses.i2c.put(0x23, chip);
        try (Sensor s = open(buses, sensor("bh1750", new Bus.I2c(1, 0x23), "{}"))) {
            assertEquals(833.3, s.read().values().get("illuminance"), "1000 counts / 1.2");
            chip.count = 12000;
            assertEquals(10000.0, s.read().values().get("illuminance"), "waited out the measurement, not the previous result");
        }
    }

    // --- DS18B20 ----------------------------------------------------------------------------

    static String w1Slave(int raw) {
        byte[] b = {(byte) raw, (byte) (raw >> 8), 0x4b, 0x46, 0x7f, (byte) 0xff, 0x0e, 0x10, 0};
        b[8] = (byte) Ds18b20Driver.crc8(b, 8);
        StringBuilder hex = new StringBuilder();
        for (byte x : b) hex.append(String.format("%02x ", x));
        return hex + ": crc=" + String.format("%02x", b[8]) + " YES\n" + hex + "t=" + (raw * 1000 / 16) + "\n";
    }

    @Test
    void ds18b20ReadsTheScratchpadAndChecksItsCrc() throws Exception {
        String id = "28-0316a2795cff";
        FakeBuses buses = new FakeBuses();
        // A real w1_slave text, as the kernel prints it.
        buses.w1.put(id, "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n");
        try (Sensor s = open(buses, sensor("ds18b20", new Bus.OneWire(id), "{}"))) {
            assertEquals(23.125, s.read().values().get("temperature"));
            // The datasheet's table 1: +125, -10.125 and -55 °C.
            buses.w1.put(id, w1Slave(0x07D0));
            assertEquals(125.0, s.read().values().get("temperature"));
            buses.w1.put(id, w1Slave(0xFF5E));
            assertEquals(-10.125, s.read().values().get("temperature"));
            buses.w1.put(id, w1Slave(0xFC90));
            assertEquals(-55.0, s.read().values().get("temperature"));
            buses.w1.put(id, "72 01 4b 46 7f ff 0e 10 58 : crc=58 NO\n72 01 4b 46 7f ff 0e 10 58 t=23125\n");
            assertTrue(assertThrows(DriverException.class, s::read).getMessage().contains("CRC"));
            buses.w1.put(id, "72 01 4b 46 7f ff 0e 10 58 : crc=58 YES\n72 01 4b 46 7f ff 0e 10 58 t=23125\n");
            assertTrue(assertThrows(DriverException.class, s::read).getMessage().contains("CRC"), "a CRC the kernel passed but is wrong");
            buses.w1.put(id, w1Slave(0x0550));
            assertTrue(assertThrows(DriverException.class, s::read).getMessage().contains("power-on"));
            buses.w1.put(id, "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n");
            assertTrue(assertThrows(DriverException.class, s::read).getMessage().contains("zeros"));
        }
    }

    // --- GPIO -------------------------------------------------------------------------------

    @Test
    void gpioInputCountsDebouncedEdges() throws Exception {
        FakeBuses buses = new FakeBuses();
        try (Sensor s = open(buses, sensor("gpio-input", new Bus.Gpio(17), "{\"pull\": \"up\", \"debounce\": \"5ms\", \"edge\": \"falling\"}"))) {
            FakeBuses.Line line = buses.lines.get(17);
            assertEquals(dev.meerkat.drivers.bus.Pull.UP, line.pull);
            long t = 0, ms = 1_000_000;
            // Three presses, each bouncing: falling, then rising 1 ms later inside the debounce, then settles.
            for (int press = 0; press < 3; press++) {
                line.drive(false, t); line.drive(true, t + ms); line.drive(false, t + 2 * ms); // bounces
                line.drive(true, t + 20 * ms); // release
                t += 50 * ms;
            }
            Sample a = s.read();
            assertEquals(3.0, a.values().get("edges"), "three falling edges, bounces dropped");
            assertEquals(1.0, a.values().get("level"));
            assertEquals(0.0, s.read().values().get("edges"), "edges count since the reading before");
        }
    }

    @Test
    void aReportOfTheSameLevelIsNoEdge() throws Exception {
        FakeBuses buses = new FakeBuses();
        buses.gpioOutput(6, false); // the line is low before the sensor opens it
        try (Sensor s = open(buses, sensor("gpio-input", new Bus.Gpio(6), "{\"report\": \"edges\", \"debounce\": \"300ms\"}"))) {
            List<Sample> pushed = new java.util.concurrent.CopyOnWriteArrayList<>();
            s.listen(pushed::add);
            FakeBuses.Line line = buses.lines.get(6);
            line.reportSettled(); // a short pulse, settled low again: no change
            assertEquals(0.0, s.read().values().get("edges"), "a pulse shorter than the debounce period is no edge");
            assertEquals(List.of(), pushed);
            line.drive(true, 1_000_000_000L);
            line.reportSettled();
            assertEquals(1.0, s.read().values().get("edges"), "one change, reported twice, is one edge");
            assertEquals(1, pushed.size());
        }
    }

    @Test
    void gpioInputPushesAReadingAtEachEdge() throws Exception {
        FakeBuses buses = new FakeBuses();
        try (Sensor s = open(buses, sensor("gpio-input", new Bus.Gpio(5), "{\"report\": \"edges\", \"edge\": \"rising\", \"debounce\": \"0ms\"}"))) {
            List<Sample> pushed = new java.util.concurrent.CopyOnWriteArrayList<>();
            s.listen(pushed::add);
            FakeBuses.Line line = buses.lines.get(5);
            line.drive(true, 1_000_000);
            line.drive(false, 2_000_000);
            line.drive(true, 3_000_000);
            assertEquals(2, pushed.size(), "one reading per rising edge");
            assertEquals(1.0, pushed.get(0).values().get("level"));
            assertEquals(1.0, pushed.get(0).values().get("edges"));
            assertEquals(2.0, s.read().values().get("edges"), "the interval's reading still counts them");
        }
    }

    @Test
    void gpioOutputHoldsItsLevel() throws Exception {
        FakeBuses buses = new FakeBuses();
        try (Sensor s = open(buses, sensor("gpio-output", new Bus.Gpio(27), "{\"level\": \"high\"}"))) {
            FakeBuses.Line line = buses.lines.get(27);
            assertTrue(line.level);
            line.level = false; // moved by something else
            assertEquals(1.0, s.read().values().get("level"));
            assertTrue(line.level, "put back to the configured level");
        }
    }

}
