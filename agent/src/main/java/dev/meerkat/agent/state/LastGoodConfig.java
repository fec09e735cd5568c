package dev.meerkat.agent.state;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meerkat.config.ConfigDocument;
import dev.meerkat.config.ConfigLayer;
import dev.meerkat.config.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The documents of the last good config, kept on disk ({@code storage.dir/config/last-good.json}) so
 * that the agent boots and runs its sensors with ZooKeeper unreachable (SPEC §4). Written
 * atomically: a temporary file, fsync, rename, fsync of the directory; a power cut leaves the old
 * file or the new one, never half of one.
 *
 * <pre>{@code
 * { "savedAt": "...",
 *   "fleet":  { "agent": {"znode": "...", "version": 3, "data": "{...}"}, "sensors": { "s1": {...} } },
 *   "device": { ... } }
 * }</pre>
 */
public final class LastGoodConfig {
    /** Both layers, as they were in force. */
    public record Saved(ConfigLayer fleet, ConfigLayer device, Instant savedAt) {}

    private final Path file;

    public LastGoodConfig(Path storageDir) {
        this.file = storageDir.resolve("config").resolve("last-good.json");
    }

    public Path file() {
        return file;
    }

    public void save(ConfigLayer fleet, ConfigLayer device, Instant now) throws IOException {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("savedAt", now.toString());
        root.set("fleet", layer(fleet));
        root.set("device", layer(device));
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(Json.writePretty(root));
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // some file systems cannot sync a directory; the rename is still atomic
        }
    }

    /** The saved layers; empty when there is no file. A damaged file is an error, not an empty config. */
    public Optional<Saved> load() throws IOException {
        if (!Files.exists(file)) return Optional.empty();
        JsonNode root;
        try {
            root = Json.tree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IOException(file + " is not JSON: " + e.getMessage(), e);
        }
        if (!root.isObject()) throw new IOException(file + " is not a JSON object");
        return Optional.of(new Saved(layer(root.path("fleet")), layer(root.path("device")),
                Instant.parse(root.path("savedAt").asText(Instant.EPOCH.toString()))));
    }

    private static ObjectNode layer(ConfigLayer l) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        l.agent().ifPresent(d -> n.set("agent", doc(d)));
        ObjectNode sensors = n.putObject("sensors");
        l.sensors().forEach((id, d) -> sensors.set(id, doc(d)));
        return n;
    }

    private static ObjectNode doc(ConfigDocument d) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("znode", d.znode());
        n.put("version", d.version());
        n.put("data", new String(d.data(), StandardCharsets.UTF_8));
        return n;
    }

    private static ConfigLayer layer(JsonNode n) throws IOException {
        Optional<ConfigDocument> agent = n.has("agent") ? Optional.of(doc(n.get("agent"))) : Optional.empty();
        Map<String, ConfigDocument> sensors = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.path("sensors").properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            sensors.put(e.getKey(), doc(e.getValue()));
        }
        return ConfigLayer.of(agent, sensors);
    }

    private static ConfigDocument doc(JsonNode n) throws IOException {
        if (!n.path("znode").isTextual() || !n.path("data").isTextual() || !n.path("version").isInt()) {
            throw new IOException("a document in the last good config is damaged: " + n);
        }
        return new ConfigDocument(n.get("znode").asText(), n.get("data").asText().getBytes(StandardCharsets.UTF_8),
                n.get("version").asInt());
    }
}
