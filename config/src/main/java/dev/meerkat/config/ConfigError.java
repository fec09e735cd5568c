package dev.meerkat.config;

/**
 * One thing wrong with a config document.
 *
 * @param source  where the document came from: a file path or a znode path
 * @param path    the JSON path of the bad value, {@code $} for the document itself
 * @param message what is wrong, in words a person can act on
 */
public record ConfigError(String source, String path, String message) {
    @Override
    public String toString() {
        return source + " " + path + ": " + message;
    }
}
