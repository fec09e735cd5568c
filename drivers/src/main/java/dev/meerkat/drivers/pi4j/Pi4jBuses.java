package dev.meerkat.drivers.pi4j;

import com.pi4j.Pi4J;
import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.gpio.digital.PullResistance;
import com.pi4j.io.i2c.I2C;
import com.pi4j.plugin.gpiod.provider.gpio.digital.GpioDDigitalInputProvider;
import com.pi4j.plugin.gpiod.provider.gpio.digital.GpioDDigitalOutputProvider;
import com.pi4j.plugin.linuxfs.provider.i2c.LinuxFsI2CProvider;
import dev.meerkat.drivers.bus.Buses;
import dev.meerkat.drivers.bus.DriverException;
import dev.meerkat.drivers.bus.GpioInput;
import dev.meerkat.drivers.bus.GpioOutput;
import dev.meerkat.drivers.bus.I2cDevice;
import dev.meerkat.drivers.bus.OneWire;
import dev.meerkat.drivers.bus.Pull;
import dev.meerkat.drivers.bus.SysfsOneWire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The gateway's real buses, through Pi4J 3: {@code pi4j-plugin-linuxfs} for I2C ({@code /dev/i2c-N}),
 * {@code pi4j-plugin-gpiod} for GPIO (the header's chip, {@link GpioChips}), sysfs for 1-Wire. This
 * class is the whole of Meerkat's use of Pi4J: moving to Pi4J 4 and its {@code ffm} plugin changes
 * this file (and {@link GpioChips}) only.
 *
 * <p>Before Pi4J is asked, the device node is checked, so a missing bus or a missing permission is
 * a permanent error that says what to do. GPIO also needs a Raspberry Pi: Pi4J's gpiod plugin
 * drives nothing on another board (docs/decisions.md, "GPIO on Raspberry Pis only"), which is a
 * permanent error too, instead of Pi4J's later "No gpio chip yet initialized!". The Pi4J context
 * is made on first use: an agent with only simulated sensors never loads a native library.
 */
public final class Pi4jBuses implements Buses, AutoCloseable {
    private final Path dev, model;
    private final java.util.function.BooleanSupplier raspberryPi;
    private final GpioChips.Labels labels;
    private final String user = System.getProperty("user.name");
    private final AtomicInteger ids = new AtomicInteger();
    /** The ids of the GPIO lines open now (not closed by their sensor). */
    private final java.util.Set<String> openLines = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private Context pi4j;

    /** {@code dev} is {@code /dev} on a gateway. */
    public Pi4jBuses(Path dev) {
        this(dev, GpioChips.MODEL, Pi4jBuses::onRaspberryPi, GpioChips.KERNEL);
    }

    /** With the board's model file, whether Pi4J takes the board for a Raspberry Pi, and the chips' labels (tests). */
    public Pi4jBuses(Path dev, Path model, java.util.function.BooleanSupplier raspberryPi, GpioChips.Labels labels) {
        this.dev = dev;
        this.model = model;
        this.raspberryPi = raspberryPi;
        this.labels = labels;
    }

    /** Whether Pi4J takes this board for a Raspberry Pi (its gpiod plugin drives nothing otherwise). */
    public static boolean onRaspberryPi() {
        try {
            return com.pi4j.boardinfo.util.BoardInfoHelper.runningOnRaspberryPi();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    private synchronized Context context() throws DriverException {
        if (pi4j == null) {
            try {
                var builder = Pi4J.newContextBuilder().noAutoDetect()
                        .add(LinuxFsI2CProvider.newInstance(), GpioDDigitalInputProvider.newInstance(), GpioDDigitalOutputProvider.newInstance());
                // The chip the checks looked at, named: Pi4J's own choice, made explicit.
                String chip = GpioChips.find(dev, labels).header();
                if (chip != null) builder.property("gpio.chip.name", chip);
                pi4j = builder.build();
            } catch (RuntimeException | LinkageError e) {
                throw new DriverException("Pi4J could not start (" + e + "); is this a Linux gateway with libgpiod?", true, e);
            }
        }
        return pi4j;
    }

    /** Permanent errors with the fix, for a device node that is missing or not ours to use. */
    void checkNode(Path node, String group, String enable) throws DriverException {
        if (!Files.exists(node)) throw new DriverException("no " + node + ": " + enable, true);
        if (!Files.isReadable(node) || !Files.isWritable(node)) {
            throw new DriverException("permission denied on " + node + ": add user " + user + " to group " + group
                    + " (sudo usermod -aG " + group + " " + user + ", then restart the agent)", true);
        }
    }

    @Override
    public I2cDevice i2c(int bus, int address) throws DriverException {
        checkNode(dev.resolve("i2c-" + bus), "i2c", "enable I2C (dtparam=i2c_arm=on in /boot/firmware/config.txt, or raspi-config nonint do_i2c 0) and reboot");
        String name = String.format("/dev/i2c-%d 0x%02x", bus, address);
        I2C i2c;
        try {
            i2c = context().create(I2C.newConfigBuilder(context()).id("i2c-" + bus + "-" + address + "-" + ids.incrementAndGet())
                    .bus(bus).device(address).provider(LinuxFsI2CProvider.ID).build());
        } catch (RuntimeException e) {
            throw new DriverException(name + ": " + e.getMessage(), false, e);
        }
        return new I2cDevice() {
            @Override
            public String describe() {
                return name;
            }

            @Override
            public void write(byte... data) throws DriverException {
                try {
                    int n = i2c.write(data, 0, data.length);
                    if (n != data.length) throw new DriverException(name + ": wrote " + n + " of " + data.length + " bytes (NACK?)", false);
                } catch (RuntimeException e) {
                    throw new DriverException(name + ": write failed (NACK or bus error: check wiring and address): " + e.getMessage(), false, e);
                }
            }

            @Override
            public void read(byte[] into) throws DriverException {
                try {
                    int n = i2c.read(into, 0, into.length);
                    if (n != into.length) throw new DriverException(name + ": read " + n + " of " + into.length + " bytes (NACK?)", false);
                } catch (RuntimeException e) {
                    throw new DriverException(name + ": read failed (NACK or bus error: check wiring and address): " + e.getMessage(), false, e);
                }
            }

            @Override
            public void close() {
                try {
                    i2c.close();
                } catch (RuntimeException e) {
                    // closing anyway
                }
            }
        };
    }

    /**
     * The header's chip ({@link GpioChips}), checked: a Raspberry Pi, the chip there, its node
     * usable; the permanent error that says what is wrong otherwise. {@code meerkat doctor} asks too.
     */
    public String checkGpio() throws DriverException {
        if (!raspberryPi.getAsBoolean()) {
            throw new DriverException("GPIO goes through Pi4J, which drives the header of Raspberry Pi boards only; this board is "
                    + GpioChips.model(model) + " (" + model + ")", true);
        }
        GpioChips.Found found = GpioChips.find(dev, labels);
        String chip = found.header();
        if (chip == null) {
            // A chip we may not open hides its label: its permission is the problem to report.
            if (found.unreadable() != null) checkNode(dev.resolve(found.unreadable()), "gpio", "this kernel has no GPIO character device");
            throw new DriverException(found.chips().isEmpty() ? "no " + dev.resolve("gpiochip0") + ": this kernel has no GPIO character device"
                    : "no GPIO chip labelled pinctrl-* (the header's); chips: " + found.describe() + "; this kernel may have no GPIO driver for the board", true);
        }
        checkNode(dev.resolve(chip), "gpio", "this kernel has no GPIO character device");
        return chip;
    }

    @Override
    public GpioInput gpioInput(int pin, Pull pull, Duration debounce) throws DriverException {
        String name = checkGpio() + " line " + pin;
        DigitalInput in;
        try {
            Context c = context();
            String id = "gpio-in-" + pin + "-" + ids.incrementAndGet();
            in = withoutStale(c, pin, () -> c.create(DigitalInput.newConfigBuilder(c).id(id).address(pin)
                    .pull(switch (pull) { case UP -> PullResistance.PULL_UP; case DOWN -> PullResistance.PULL_DOWN; case NONE -> PullResistance.OFF; })
                    .debounce(debounce.toNanos() / 1000, TimeUnit.MICROSECONDS).provider(GpioDDigitalInputProvider.ID).build()));
        } catch (RuntimeException e) {
            throw new DriverException(name + ": " + e.getMessage() + " (is the line used by another program or a kernel driver?)", true, e);
        }
        openLines.add(in.id());
        return new GpioInput() {
            @Override
            public String describe() {
                return name;
            }

            @Override
            public boolean high() throws DriverException {
                try {
                    return in.isHigh();
                } catch (RuntimeException e) {
                    throw new DriverException(name + ": " + e.getMessage(), false, e);
                }
            }

            @Override
            public void onEdge(Consumer<Boolean> onEdge) {
                in.addListener(e -> onEdge.accept(e.state() == DigitalState.HIGH));
            }

            @Override
            public void close() {
                openLines.remove(in.id());
                try {
                    context().shutdown(in);
                } catch (Exception e) {
                    // closing anyway
                }
            }
        };
    }

    @Override
    public GpioOutput gpioOutput(int pin, boolean initial) throws DriverException {
        String name = checkGpio() + " line " + pin;
        DigitalOutput out;
        try {
            Context c = context();
            String id = "gpio-out-" + pin + "-" + ids.incrementAndGet();
            out = withoutStale(c, pin, () -> c.create(DigitalOutput.newConfigBuilder(c).id(id).address(pin)
                    .initial(initial ? DigitalState.HIGH : DigitalState.LOW).provider(GpioDDigitalOutputProvider.ID).build()));
        } catch (RuntimeException e) {
            throw new DriverException(name + ": " + e.getMessage() + " (is the line used by another program or a kernel driver?)", true, e);
        }
        openLines.add(out.id());
        return new GpioOutput() {
            @Override
            public String describe() {
                return name;
            }

            @Override
            public void set(boolean high) throws DriverException {
                try {
                    out.state(high ? DigitalState.HIGH : DigitalState.LOW);
                } catch (RuntimeException e) {
                    throw new DriverException(name + ": " + e.getMessage(), false, e);
                }
            }

            @Override
            public boolean high() {
                return out.isHigh();
            }

            @Override
            public void close() {
                openLines.remove(out.id());
                try {
                    context().shutdown(out);
                } catch (Exception e) {
                    // closing anyway
                }
            }
        };
    }

    /**
     * Creates a line's instance; if Pi4J still holds an earlier instance of that line that its
     * sensor closed (a shutdown that did not finish: the emulated Pi's test met one after a sensor's
     * quick reopen), that one is removed, and the line created once more. A line another sensor
     * has open is left alone: the create fails as before.
     */
    private <T> T withoutStale(Context c, int pin, java.util.function.Supplier<T> create) {
        try {
            return create.get();
        } catch (com.pi4j.io.exception.IOAlreadyExistsException e) {
            java.util.Map<String, ?> all = java.util.Map.copyOf(c.registry().all());
            for (java.util.Map.Entry<String, ?> entry : all.entrySet()) {
                if (entry.getValue() instanceof com.pi4j.io.gpio.Gpio<?, ?, ?> g && Integer.valueOf(pin).equals(g.address())
                        && !openLines.contains(entry.getKey())) {
                    try {
                        c.registry().remove(entry.getKey());
                    } catch (RuntimeException gone) {
                        // removed meanwhile, or its shutdown fails again: the retry says
                    }
                }
            }
            return create.get();
        }
    }

    @Override
    public OneWire oneWire() {
        return new SysfsOneWire(SysfsOneWire.DEVICES);
    }

    @Override
    public synchronized void close() {
        if (pi4j != null) {
            try {
                pi4j.shutdown();
            } catch (RuntimeException e) {
                // stopping anyway
            }
            pi4j = null;
        }
    }
}
