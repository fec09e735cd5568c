package dev.meerkat.agent.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A small text file of the agent's state (the journal's, the Sparkplug node's bdSeq, the Home
 * Assistant components published) that is replaced whole (a temporary file, fsynced, renamed
 * over it, the directory fsynced) and ends in a checksum line, {@code #crc32c<TAB>HEX}, over every
 * byte before it: a file damaged on the card or edited by hand is told from a good one. Files
 * written before the checksum existed (no such line) are read as they are.
 */
public final class CheckedFile {
    private static final String SUM = "#crc32c\t";

    /** What a read found: the lines (without the checksum's), and whether a checksum vouched for them. */
    public record Read(List<String> lines, boolean checked) {}

    private CheckedFile() {}

    /** The file's lines; empty when it does not exist. Throws {@link IOException} when its checksum does not match. */
    public static java.util.Optional<Read> read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return java.util.Optional.empty();
        }
        int at = text.lastIndexOf(SUM);
        if (at < 0 || (at > 0 && text.charAt(at - 1) != '\n')) return java.util.Optional.of(new Read(text.lines().toList(), false));
        String body = text.substring(0, at);
        String sum = text.substring(at + SUM.length()).strip();
        if (!sum.equals(crc(body))) throw new IOException(file.getFileName() + ": its checksum does not match its content");
        return java.util.Optional.of(new Read(body.lines().toList(), true));
    }

    /** Replaces the file with {@code body} (lines ending in a line break) and its checksum; fsynced when {@code sync}. */
    public static void write(Path file, String body, boolean sync) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        byte[] bytes = (body + SUM + crc(body) + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
            if (sync) ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        if (sync) {
            try (FileChannel d = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                d.force(true);
            }
        }
    }

    private static String crc(String body) {
        CRC32C c = new CRC32C();
        c.update(body.getBytes(StandardCharsets.UTF_8));
        return String.format("%08x", c.getValue());
    }
}
