package dev.meerkat.drivers.bus;


/**
 * One device on an I2C bus ({@code /dev/i2c-N}, a 7-bit address). Each call is one bus transaction.
 * A NACK or a bus error is a transient {@link DriverException}; a missing bus or no permission is a
 * permanent one with a fix hint.
 */
public interface I2cDevice extends AutoCloseable {
    /** {@code /dev/i2c-1 0x76}: for messages. */
    String describe();

    /** Writes {@code data} in one transaction. */
    void write(byte... data) throws DriverException;

    /** Reads {@code into.length} bytes in one transaction. */
    void read(byte[] into) throws DriverException;

    /** Writes the register pointer, then reads {@code into.length} bytes from there on. */
    default void readRegisters(int register, byte[] into) throws DriverException {
        write((byte) register);
        read(into);
    }

    default int readRegister(int register) throws DriverException {
        byte[] b = new byte[1];
        readRegisters(register, b);
        return b[0] & 0xFF;
    }

    default void writeRegister(int register, int value) throws DriverException {
        write((byte) register, (byte) value);
    }

    @Override
    void close();
}
