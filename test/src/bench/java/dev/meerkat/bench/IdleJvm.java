package dev.meerkat.bench;

/** An empty JVM: a main that waits for ever, the floor of the cost at rest ({@link RestBenchmark}). */
public final class IdleJvm {
    private IdleJvm() {}

    public static void main(String[] args) throws InterruptedException {
        Thread.sleep(Long.MAX_VALUE);
    }
}
