package dev.meerkat.agent.sparkplug;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BdSeqTest {
    @TempDir
    Path dir;

    @Test
    void oneMorePerConnectionAcrossRestartsAndAfter255Zero() throws Exception {
        Path file = dir.resolve("sparkplug").resolve("bdseq");
        assertEquals(0, new BdSeq(file).next(), "the first connection ever");
        assertEquals(1, new BdSeq(file).next(), "a restart goes on from the file");
        Files.writeString(file, "255\n");
        BdSeq b = new BdSeq(file);
        assertEquals(0, b.next(), "after 255, 0");
        assertEquals(1, b.next());
        Files.writeString(file, "garbage");
        assertEquals(0, new BdSeq(file).next(), "an unreadable file starts again at 0, with a warning");
    }
}
