package dev.meerkat.agent.firmware;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * Fetches an artifact to a file: {@code http://}, {@code https://} (the JDK's client, the system's
 * trust store) or {@code file:}. The bytes go to {@code FILE.part} first; an interrupted download
 * (a lost link, a crash, a restart) resumes from the part's length with a {@code Range} request,
 * and starts over if the server does not honour it. A failed attempt is tried again, a bounded
 * number of times, after a growing pause. The part becomes {@code FILE} only when complete.
 */
final class Download {
    /** Told the bytes so far and the total when known (-1 otherwise), at most about once a second. */
    interface Progress {
        void at(long bytes, long total);
    }

    static final int ATTEMPTS = 5;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    private Download() {}

    static void fetch(String url, Path dest, Progress progress) throws IOException, InterruptedException {
        fetch(url, dest, progress, ATTEMPTS, Duration.ofSeconds(1));
    }

    /** The same, with {@code attempts} tries and pauses from {@code firstPause} doubling (at most 30 s). */
    static void fetch(String url, Path dest, Progress progress, int attempts, Duration firstPause) throws IOException, InterruptedException {
        Path part = dest.resolveSibling(dest.getFileName() + ".part");
        Files.createDirectories(dest.getParent());
        IOException last = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            try {
                if (url.startsWith("file:")) {
                    copyFile(Path.of(URI.create(url)), part, progress);
                } else {
                    http(url, part, progress);
                }
                Files.move(part, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                return;
            } catch (IOException e) {
                last = e;
                if (attempt < attempts) Thread.sleep(Math.min(30_000, firstPause.toMillis() << (attempt - 1)));
            }
        }
        throw new IOException("download failed after " + attempts + " attempts: " + last.getMessage(), last);
    }

    private static void copyFile(Path source, Path part, Progress progress) throws IOException {
        long total = Files.size(source);
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (have > total) have = 0;
        try (InputStream in = Files.newInputStream(source)) {
            in.skipNBytes(have);
            copy(in, part, have, total, progress);
        }
    }

    private static void http(String url, Path part, Progress progress) throws IOException {
        // HttpURLConnection, not the JDK's HttpClient: it has a read timeout, so a stalled server
        // cannot hold the firmware thread forever.
        long have = Files.exists(part) ? Files.size(part) : 0;
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        c.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
        c.setReadTimeout((int) READ_TIMEOUT.toMillis());
        c.setInstanceFollowRedirects(true);
        if (have > 0) c.setRequestProperty("Range", "bytes=" + have + "-");
        try {
            int code = c.getResponseCode();
            long length = c.getContentLengthLong();
            if (code == 206) {
                try (InputStream in = c.getInputStream()) {
                    copy(in, part, have, length >= 0 ? have + length : -1, progress);
                }
            } else if (code == 200) {
                // No resume from this server (or nothing to resume): from the start.
                try (InputStream in = c.getInputStream()) {
                    copy(in, part, 0, length, progress);
                }
            } else if (code == 416 && have > 0) {
                // The part is already whole, or the file changed: start over next attempt.
                Files.delete(part);
                throw new IOException("the server refused the range from byte " + have + " (HTTP 416); starting over");
            } else {
                throw new IOException("HTTP " + code + " from " + url);
            }
        } finally {
            c.disconnect();
        }
    }

    private static void copy(InputStream in, Path part, long from, long total, Progress progress) throws IOException {
        StandardOpenOption mode = from > 0 ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING;
        long bytes = from;
        long reported = 0;
        try (OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode)) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                bytes += n;
                long now = System.nanoTime();
                if (now - reported > 1_000_000_000L) {
                    progress.at(bytes, total);
                    reported = now;
                }
            }
        }
        if (total >= 0 && bytes != total) throw new IOException("the download stopped at byte " + bytes + " of " + total);
        progress.at(bytes, total);
    }
}
