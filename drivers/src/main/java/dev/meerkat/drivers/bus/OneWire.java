package dev.meerkat.drivers.bus;


/** The kernel's 1-Wire bus ({@code w1-gpio}, {@code w1-therm}): each slave is a directory under {@code /sys/bus/w1/devices}. */
public interface OneWire {
    /** The text of the slave's {@code w1_slave} file (reading it makes the kernel run a conversion). */
    String readSlave(String slaveId) throws DriverException;
}
