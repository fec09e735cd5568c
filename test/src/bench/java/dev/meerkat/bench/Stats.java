package dev.meerkat.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Latency samples in nanoseconds, summarised in microseconds or milliseconds. */
final class Stats {
    private long[] v = new long[1024];
    private int n;

    synchronized void add(long nanos) {
        if (n == v.length) v = Arrays.copyOf(v, n * 2);
        v[n++] = nanos;
    }

    synchronized void addAll(Stats other) {
        long[] o;
        int on;
        synchronized (other) {
            o = Arrays.copyOf(other.v, other.n);
            on = other.n;
        }
        for (int i = 0; i < on; i++) add(o[i]);
    }

    synchronized int count() {
        return n;
    }

    synchronized double percentileMicros(double p) {
        if (n == 0) return Double.NaN;
        long[] s = Arrays.copyOf(v, n);
        Arrays.sort(s);
        int idx = (int) Math.ceil(p / 100.0 * n) - 1;
        return s[Math.max(0, Math.min(n - 1, idx))] / 1000.0;
    }

    synchronized double maxMicros() {
        long m = 0;
        for (int i = 0; i < n; i++) m = Math.max(m, v[i]);
        return m / 1000.0;
    }

    synchronized double meanMicros() {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += v[i];
        return n == 0 ? Double.NaN : sum / n / 1000.0;
    }

    Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", count());
        m.put("p50_us", round(percentileMicros(50)));
        m.put("p99_us", round(percentileMicros(99)));
        m.put("max_us", round(maxMicros()));
        m.put("mean_us", round(meanMicros()));
        return m;
    }

    /** The same in milliseconds, for times of seconds. */
    Map<String, Object> summaryMillis() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", count());
        m.put("p50_ms", round(percentileMicros(50) / 1000));
        m.put("p99_ms", round(percentileMicros(99) / 1000));
        m.put("max_ms", round(maxMicros() / 1000));
        return m;
    }

    /** The median (the mean of the middle two for an even count). */
    static double median(java.util.List<Double> values) {
        java.util.List<Double> sorted = values.stream().sorted().toList();
        int k = sorted.size();
        return k % 2 == 1 ? sorted.get(k / 2) : (sorted.get(k / 2 - 1) + sorted.get(k / 2)) / 2;
    }

    static double round(double d) {
        return Math.round(d * 10) / 10.0;
    }
}
