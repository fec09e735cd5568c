package dev.meerkat.agent.sampling;

import dev.meerkat.config.Bus;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One local lock per bus device (SPEC §6): {@code /dev/i2c-N} is one bus whatever the address, a
 * GPIO line is its own, the 1-Wire bus is one. Within the agent a lock per bus; against other
 * processes on the gateway an advisory POSIX record lock ({@code fcntl}, what {@code lockf(3)} and
 * Python's {@code fcntl.lockf} take) on {@code DIR/meerkat-i2c-1.lock}. Waiting is bounded; the
 * file lock is polled, never blocked on, so a virtual thread never pins its carrier here.
 */
public final class BusLocks {
    private final Path dir;
    private final Map<String, Local> locks = new ConcurrentHashMap<>();

    public BusLocks(Path dir) {
        this.dir = dir;
    }

    /**
     * Where the lock files go, the first of: {@code /run/lock/meerkat} (the package's tmpfiles entry
     * makes it, the agent's user's, group-writable: other processes on the gateway that share a
     * bus join group {@code meerkat}), {@code /run/lock} where this user may write there (1777 on
     * Debian), else {@code fallback} (then shared by nothing outside the agent).
     */
    public static Path defaultDir(Path fallback) {
        for (Path p : new Path[] {Path.of("/run/lock/meerkat"), Path.of("/run/lock")}) {
            if (Files.isDirectory(p) && Files.isWritable(p)) return p;
        }
        return fallback;
    }

    /** The lock file of bus {@code key} in {@code dir}. */
    public static Path file(Path dir, String key) {
        return dir.resolve("meerkat-" + key + ".lock");
    }

    /** The key of the bus device {@code bus} is on; null for no bus. */
    public static String key(Bus bus) {
        return switch (bus) {
            case Bus.I2c i -> "i2c-" + i.bus();
            case Bus.Gpio g -> "gpio-" + g.pin();
            case Bus.OneWire w -> "w1";
            default -> null;
        };
    }

    /** A held bus lock; close it to let go. */
    public interface Held extends AutoCloseable {
        @Override
        void close();
    }

    /** Takes the lock of bus {@code key} within {@code wait}; null when it did not come free in time. */
    public Held lock(String key, Duration wait) throws IOException, InterruptedException {
        Local l = locks.computeIfAbsent(key, Local::new);
        long end = System.nanoTime() + wait.toNanos();
        if (!l.inProcess.tryLock(wait.toNanos(), TimeUnit.NANOSECONDS)) return null;
        try {
            FileLock f;
            while ((f = l.channel().tryLock()) == null) {
                if (System.nanoTime() - end > 0) {
                    l.inProcess.unlock();
                    return null;
                }
                Thread.sleep(2);
            }
            FileLock held = f;
            return () -> {
                try {
                    held.release();
                } catch (IOException e) {
                    // the channel stays open; the lock goes with the process at the latest
                } finally {
                    l.inProcess.unlock();
                }
            };
        } catch (IOException | RuntimeException e) {
            l.inProcess.unlock();
            throw e;
        }
    }

    private final class Local {
        final String key;
        final ReentrantLock inProcess = new ReentrantLock(true);
        private FileChannel channel;

        Local(String key) {
            this.key = key;
        }

        /** Under {@link #inProcess}. */
        FileChannel channel() throws IOException {
            if (channel == null || !channel.isOpen()) {
                Files.createDirectories(dir);
                Path file = file(dir, key);
                try {
                    channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                } catch (java.nio.file.AccessDeniedException e) {
                    throw new IOException(unusable(file), e);
                }
            }
            return channel;
        }
    }

    /**
     * What to say of a lock file this process may not open: its owner and mode, and what fixes it
     * (typically left by a run as root: the lock files must be writable by the agent's user).
     */
    public static String unusable(Path file) {
        String owner = "?", mode = "?";
        try {
            owner = Files.getOwner(file).getName();
            mode = java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
        } catch (IOException | UnsupportedOperationException e) {
            // said as unknown
        }
        return "the bus lock file " + file + " cannot be opened by user " + System.getProperty("user.name") + " (owner " + owner
                + ", " + mode + "; left by a run as another user?): sudo rm " + file
                + " (or sudo systemd-tmpfiles --create meerkat.conf, which gives the agent's lock files in /run/lock/meerkat to it)";
    }
}
