package dev.meerkat.agent.firmware;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * The {@code package} installer's versions of Meerkat, side by side in the launcher's versions
 * directory ({@code $STATE_DIRECTORY/versions}, or {@code MEERKAT_VERSIONS_DIR}):
 * <pre>
 *   versions/1.5.0/lib/...     an installed version (a distribution's lib/)
 *   versions/current  -> 1.5.0 what the launcher runs (absent: the package's own /usr/share/meerkat/lib)
 *   versions/previous -> 1.4.0 what to go back to (absent: the package's own)
 *   versions/pending           a version not yet found healthy (JSON: its rollout and firmware)
 *   versions/attempts          the launcher's count of starts of the pending version
 *   versions/rolled-back       a version that was given up (JSON as pending), with rolled-back.reason
 * </pre>
 * The launcher counts starts while {@code pending} is there and, past its limit (3), goes back to
 * {@code previous} by itself, so a version that crashes before it can check itself is still
 * rolled back. Links are switched by renaming a new link over the old one (atomic).
 */
final class Versions {
    final Path dir;

    Versions(Path dir) {
        this.dir = dir;
    }

    Path pending() {
        return dir.resolve("pending");
    }

    Path rolledBack() {
        return dir.resolve("rolled-back");
    }

    Path rolledBackReason() {
        return dir.resolve("rolled-back.reason");
    }

    /**
     * Unpacks a distribution zip (with {@code lib/} at its top or one directory down) as version
     * {@code version}, and returns its directory. Entries that would land outside are refused.
     */
    Path unpack(Path zip, String version) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + version + ".unpacking");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                Path to = tmp.resolve(e.getName()).normalize();
                if (!to.startsWith(tmp)) throw new IOException("the artifact has an entry outside its directory: " + e.getName());
                if (e.isDirectory()) {
                    Files.createDirectories(to);
                } else {
                    Files.createDirectories(to.getParent());
                    Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (java.util.zip.ZipException e) {
            throw new IOException("the artifact is not a zip of a Meerkat distribution: " + e.getMessage());
        }
        Path home = distributionIn(tmp).orElseThrow(() -> new IOException(
                "the artifact holds no Meerkat distribution (a lib/ directory with meerkat-agent-*.jar)"));
        Path target = dir.resolve(version);
        deleteTree(target);
        Files.move(home, target, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(tmp);
        return target;
    }

    private static Optional<Path> distributionIn(Path top) throws IOException {
        if (isDistribution(top)) return Optional.of(top);
        try (DirectoryStream<Path> s = Files.newDirectoryStream(top, Files::isDirectory)) {
            for (Path p : s) if (isDistribution(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    private static boolean isDistribution(Path home) throws IOException {
        Path lib = home.resolve("lib");
        if (!Files.isDirectory(lib)) return false;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(lib, "meerkat-agent-*.jar")) {
            return s.iterator().hasNext();
        }
    }

    /** The version the launcher runs now, by name; empty when it runs the package's own. */
    Optional<String> current() throws IOException {
        return linked("current");
    }

    /** The version link {@code name} points to, by name; empty when there is no such link. */
    private Optional<String> linked(String name) throws IOException {
        Path link = dir.resolve(name);
        return Files.isSymbolicLink(link) ? Optional.of(Files.readSymbolicLink(link).getFileName().toString()) : Optional.empty();
    }

    /** Makes {@code version} current, remembering what was current as previous; marks it pending (JSON). */
    void switchTo(String version, byte[] pendingJson) throws IOException {
        Optional<String> before = current();
        if (before.isPresent()) link("previous", before.get());
        else Files.deleteIfExists(dir.resolve("previous"));
        Files.deleteIfExists(dir.resolve("attempts"));
        write(pending(), pendingJson);
        link("current", version);
    }

    /** The pending version passed its check (or was given up): it stays, and versions other than current and previous go. */
    void confirm() throws IOException {
        Files.deleteIfExists(pending());
        Files.deleteIfExists(dir.resolve("attempts"));
        prune();
    }

    /** Removes installed versions that are neither current nor previous (flash is small). */
    void prune() throws IOException {
        java.util.Set<String> keep = new java.util.HashSet<>();
        current().ifPresent(keep::add);
        linked("previous").ifPresent(keep::add);
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))) {
            for (Path p : s) {
                if (!keep.contains(p.getFileName().toString())) deleteTree(p);
            }
        }
    }

    /** The pending version failed its check: back to the previous one, and say why for the next start to report. */
    void rollBack(String reason) throws IOException {
        Optional<String> previous = linked("previous");
        if (previous.isPresent()) link("current", previous.get());
        else Files.deleteIfExists(dir.resolve("current"));
        write(rolledBackReason(), (reason + "\n").getBytes(StandardCharsets.UTF_8));
        Files.move(pending(), rolledBack(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.deleteIfExists(dir.resolve("attempts"));
    }

    /** Clears a reported roll-back. */
    void forgetRollBack() throws IOException {
        Files.deleteIfExists(rolledBack());
        Files.deleteIfExists(rolledBackReason());
        prune();
    }

    private void link(String name, String version) throws IOException {
        Path tmp = dir.resolve("." + name + ".new");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, Path.of(version));
        Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Replaces {@code file} whole, or not at all: a temporary file, synced, renamed over it. */
    static void write(Path file, byte[] data) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, data);
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }

    static String read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
    }

}
