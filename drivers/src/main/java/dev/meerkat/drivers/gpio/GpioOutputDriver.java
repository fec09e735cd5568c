package dev.meerkat.drivers.gpio;

import dev.meerkat.config.Bus;
import dev.meerkat.config.Fields;
import dev.meerkat.config.SensorConfig;
import dev.meerkat.drivers.Driver;
import dev.meerkat.drivers.DriverContext;
import dev.meerkat.drivers.Sample;
import dev.meerkat.drivers.Sensor;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.bus.GpioOutput;
import java.util.List;
import java.util.Map;

/**
 * A GPIO output held at the level the config sets (a relay, a fan): a config change sets the new
 * level at once (the sensor restarts with its new settings). Each reading reports the level the
 * line is driven at. When the sensor stops (removed, changed, the agent stopped) the line is
 * released, and what the pin does then is the kernel's: Raspberry Pi OS's kernel keeps the level it
 * was driven to ({@code pinctrl_bcm2835.persist_gpio_outputs}, on by default there), mainline and
 * Debian kernels, or Raspberry Pi OS with {@code dtparam=strict_gpiod}, put a released pin back to
 * an input, so the load sees the pin's pull (docs/decisions.md, "GPIO outputs when released").
 *
 * <pre>{@code { "driver": "gpio-output", "bus": { "gpio": 27 }, "settings": { "level": "high" } } }</pre>
 */
public final class GpioOutputDriver implements Driver {
    @Override
    public java.util.Map<String, String> quantities(SensorConfig config) {
        return java.util.Map.of("level", "1");
    }

    @Override
    public String name() {
        return "gpio-output";
    }

    @Override
    public String checkBus(Bus bus) {
        return bus instanceof Bus.Gpio ? null : "the gpio-output driver needs a gpio line, like {\"gpio\": 27}";
    }

    @Override
    public void checkSettings(Fields settings) {
        parse(settings);
    }

    static boolean parse(Fields f) {
        String level = f.oneOf("level", "low", List.of("high", "low"));
        f.done();
        return "high".equals(level);
    }

    @Override
    public Sensor open(SensorConfig config, DriverContext context) throws DriverException {
        boolean high = Driver.settings(config, GpioOutputDriver::parse);
        GpioOutput out = context.buses().gpioOutput(((Bus.Gpio) config.bus()).pin(), high);
        return new Sensor() {
            @Override
            public Sample read() throws DriverException {
                if (out.high() != high) out.set(high); // something else moved it: put it back
                return new Sample(Map.of("level", high ? 1.0 : 0.0), Map.of("level", "1"));
            }

            @Override
            public void close() {
                out.close();
            }
        };
    }
}
