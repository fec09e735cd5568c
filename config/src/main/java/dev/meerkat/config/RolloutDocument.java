package dev.meerkat.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A firmware rollout, {@code /fleets/F/rollouts/R} (SPEC §7), checked whole like a config document.
 *
 * <p>Besides the keys of SPEC §7, the operator's document carries {@code control}: {@code run}
 * (the default), {@code pause} or {@code abort}. {@code meerkat rollout pause|resume|abort} write
 * it; the leader reads it on every step, and writes what it did in the rollout's {@code state}.
 *
 * @param waves each entry is how many devices the rollout has reached by the end of that wave
 *     (cumulative): a count, or a share of the registered members when the rollout started
 * @param healthTimeout empty: the leader's {@code rollout.healthTimeout} setting
 */
public record RolloutDocument(String firmware, Artifact artifact, String installer, List<Amount> waves,
                              Amount maxFailures, Optional<Duration> healthTimeout, String control) {
    public static final Pattern ID = BootstrapConfig.NAME;
    public static final List<String> INSTALLERS = List.of("package", "command");
    public static final List<String> CONTROLS = List.of("run", "pause", "abort");
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.+~_-]{0,63}");
    private static final Pattern PERCENT = Pattern.compile("(\\d{1,3}(?:\\.\\d+)?)%");

    public record Artifact(String url, String sha256, String signature) {}

    /** A count of devices, or a percentage of a population. */
    public record Amount(int count, double percent) {
        public static Amount ofCount(int n) {
            return new Amount(n, -1);
        }

        public boolean isPercent() {
            return percent >= 0;
        }

        /** Of {@code population}: a percentage rounds up (so 10% of 5 is 1, not 0), a count is as is. */
        public int of(int population) {
            return isPercent() ? (int) Math.ceil(population * percent / 100.0 - 1e-9) : count;
        }

        /** A failure allowance: a percentage rounds down (5% of 10 allows 0 failures). */
        public int floorOf(int population) {
            return isPercent() ? (int) Math.floor(population * percent / 100.0 + 1e-9) : count;
        }

        public Object json() {
            return isPercent() ? (percent == Math.rint(percent) ? (long) percent + "%" : percent + "%") : count;
        }
    }

    public static RolloutDocument parse(byte[] data, String source) throws ConfigException {
        List<ConfigError> errors = new ArrayList<>();
        Optional<JsonNode> tree = Json.parse(data, source, errors);
        if (tree.isEmpty()) throw new ConfigException(errors);
        Fields root = Fields.root(tree.get(), source, errors);
        String firmware = root.has("firmware") ? root.string("firmware", null, VERSION,
                "a version: letters, digits, '.', '+', '~', '_' or '-', at most 64") : root.required("firmware");
        Fields a = root.object("artifact");
        String url = a.required("url");
        if (url != null && !(url.startsWith("https://") || url.startsWith("http://") || url.startsWith("file:/"))) {
            a.error("url", "must be an http://, https:// or file: URL, got \"" + url + "\"");
        }
        String sha = a.required("sha256");
        if (sha != null && !sha.matches("[0-9a-fA-F]{64}")) a.error("sha256", "must be 64 hexadecimal digits, got \"" + sha + "\"");
        String sig = a.required("signature");
        if (sig != null) {
            try {
                if (java.util.Base64.getDecoder().decode(sig).length != 64) a.error("signature", "must be a base64 Ed25519 signature (64 bytes)");
            } catch (IllegalArgumentException e) {
                a.error("signature", "must be base64: " + e.getMessage());
            }
        }
        a.done();
        String installer = root.has("installer") ? root.oneOf("installer", null, INSTALLERS) : root.required("installer");
        List<Amount> waves = waves(root, errors, source);
        Amount maxFailures = root.has("maxFailures") ? amount(root.raw("maxFailures"), root, "maxFailures", 0) : Amount.ofCount(0);
        Optional<Duration> health = root.has("healthTimeout")
                ? Optional.ofNullable(root.duration("healthTimeout", null, Duration.ofSeconds(10), Duration.ofDays(1)))
                : Optional.empty();
        String control = root.oneOf("control", "run", CONTROLS);
        root.done();
        if (!errors.isEmpty()) throw new ConfigException(errors);
        return new RolloutDocument(firmware, new Artifact(url, sha.toLowerCase(java.util.Locale.ROOT), sig), installer,
                List.copyOf(waves), maxFailures, health, control);
    }

    private static List<Amount> waves(Fields root, List<ConfigError> errors, String source) {
        JsonNode w = root.raw("waves");
        List<Amount> out = new ArrayList<>();
        if (w == null) {
            root.error("waves", "is required: a list of counts or percentages, like [1, \"10%\", \"100%\"]");
            return out;
        }
        if (!w.isArray() || w.isEmpty()) {
            root.error("waves", "must be a non-empty list of counts or percentages, got " + Fields.describe(w));
            return out;
        }
        if (w.size() > 100) root.error("waves", "must have at most 100 waves, got " + w.size());
        String path = root.pathOf("waves");
        for (int i = 0; i < w.size(); i++) {
            int before = errors.size();
            Amount amt = amount(w.get(i), null, null, 1);
            if (amt == null) {
                errors.add(new ConfigError(source, path + "[" + i + "]",
                        "must be a count of at least 1 or a percentage like \"10%\" (above 0, at most 100), got " + Fields.describe(w.get(i))));
                continue;
            }
            if (errors.size() == before) out.add(amt);
        }
        return out;
    }

    /** A count {@code >= min} or a percentage string; null (and an error on {@code f}, if given) otherwise. */
    private static Amount amount(JsonNode v, Fields f, String key, int min) {
        Amount a = null;
        if (v != null && v.isIntegralNumber() && v.canConvertToInt() && v.asInt() >= min) {
            a = Amount.ofCount(v.asInt());
        } else if (v != null && v.isTextual()) {
            Matcher m = PERCENT.matcher(v.asText());
            if (m.matches()) {
                double p = Double.parseDouble(m.group(1));
                if (p <= 100 && (p > 0 || min == 0)) a = new Amount(-1, p);
            }
        }
        if (a == null && f != null) {
            f.error(key, "must be a count of at least " + min + " or a percentage like \"5%\" (at most 100), got " + Fields.describe(v));
        }
        return a;
    }

    /** The document as JSON, for writing (the operator commands). */
    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("firmware", firmware);
        m.put("artifact", Map.of("url", artifact.url(), "sha256", artifact.sha256(), "signature", artifact.signature()));
        m.put("installer", installer);
        m.put("waves", waves.stream().map(Amount::json).toList());
        m.put("maxFailures", maxFailures.json());
        healthTimeout.ifPresent(d -> m.put("healthTimeout", Durations.format(d)));
        m.put("control", control);
        return m;
    }

    /** The SHA-256 as bytes. */
    public byte[] sha256Bytes() {
        return HexFormat.of().parseHex(artifact.sha256());
    }
}
