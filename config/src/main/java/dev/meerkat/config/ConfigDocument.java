package dev.meerkat.config;

/**
 * A config document as read from its znode.
 *
 * @param znode   its path (for error messages), relative to the Meerkat root
 * @param data    the raw bytes, UTF-8 JSON
 * @param version the znode's data version
 */
public record ConfigDocument(String znode, byte[] data, int version) {}
