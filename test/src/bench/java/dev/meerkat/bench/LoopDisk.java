package dev.meerkat.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A file system of the benchmark's own, as on a Pi's card: an image file attached to a loop
 * device, formatted ext4 with its defaults ({@code data=ordered}, the default of Raspberry Pi OS)
 * and mounted. What the agent's files cost the card is then the device's own count of sectors
 * written ({@code /sys/block/loopN/stat}), the file system's journal and metadata included, and
 * nothing else writes there. Needs root and util-linux; {@link #open} says why when it cannot.
 */
final class LoopDisk implements AutoCloseable {
    private final Path image;
    private final String device;
    final Path mount;

    private LoopDisk(Path image, String device, Path mount) {
        this.image = image;
        this.device = device;
        this.mount = mount;
    }

    /** A fresh ext4 of {@code mib} MiB mounted at {@code dir}/mnt. */
    static LoopDisk open(Path dir, int mib) throws IOException, InterruptedException {
        Path image = dir.resolve("card.img");
        Path mount = Files.createDirectories(dir.resolve("mnt"));
        try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength((long) mib << 20);
        }
        String device = run("losetup", "--find", "--show", image.toString()).strip();
        try {
            // Every inode table and the journal initialised now: no lazy initialisation writing in the background while measured.
            run("mkfs.ext4", "-q", "-E", "lazy_itable_init=0,lazy_journal_init=0", device);
            run("mount", device, mount.toString());
        } catch (IOException e) {
            run("losetup", "-d", device);
            throw e;
        }
        return new LoopDisk(image, device, mount);
    }

    /** Bytes the device has written since it was attached: its sectors written, 512 bytes each. */
    long bytesWritten() throws IOException {
        String[] f = Files.readString(Path.of("/sys/block", Path.of(device).getFileName().toString(), "stat")).strip().split("\\s+");
        return Long.parseLong(f[6]) * 512;
    }

    /** Writes out what the page cache holds for the file system, so that a measurement ends on what was written. */
    void sync() throws IOException, InterruptedException {
        run("sync", "-f", mount.toString());
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            run("umount", mount.toString());
        } finally {
            run("losetup", "-d", device);
            Files.deleteIfExists(image);
        }
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException(String.join(" ", cmd) + " failed: " + out.strip());
        return out;
    }
}
