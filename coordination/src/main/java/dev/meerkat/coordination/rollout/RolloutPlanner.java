package dev.meerkat.coordination.rollout;

import dev.meerkat.config.RolloutDocument;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One step of a rollout, as a pure function of what the leader read: the document, the state, the
 * registered members, the devices' reports and the time. The leader runs it about once a second
 * and writes the result; a new leader running it on the same inputs decides the same.
 *
 * <p>The rules (docs/rollouts.md):
 * <ul>
 *   <li>{@code control: abort} ends the rollout; {@code pause} holds it: no new wave starts, the
 *       devices of the current wave go on and are still followed.
 *   <li>A device's state follows its report for this rollout and firmware; {@code failed} and
 *       {@code rolled-back} count as failures, and so does a device without a healthy report
 *       {@code healthTimeout} after its target was written ({@code timed-out}).
 *   <li>More failures than {@code maxFailures} allows (of the population, rounded down), beyond
 *       those an operator resumed past, pause the rollout.
 *   <li>A wave is over when each of its devices is healthy or failed; then the next one starts.
 *       Each wave's devices are the first not yet chosen among the registered members, in the order
 *       of SHA-256(rollout id + "/" + device id): a fixed, spread-out order any leader computes alike.
 *   <li>After the last wave, the rollout is completed.
 * </ul>
 */
public final class RolloutPlanner {
    private RolloutPlanner() {}

    public record Input(String id, RolloutDocument doc, int docVersion, RolloutState state, List<String> members,
                        Map<String, FirmwareReport> reports, Instant now, Duration defaultHealthTimeout, String leader,
                        long epoch) {}

    /** The next state, and the devices whose target must name this rollout (written if it does not yet). */
    public record Plan(RolloutState next, List<String> targets) {}

    public static Plan step(Input in) {
        RolloutState s = in.state();
        if (s.isFinal()) return new Plan(s, List.of());
        String now = in.now().toString();
        RolloutDocument doc = in.doc();
        Duration timeout = doc.healthTimeout().orElse(in.defaultHealthTimeout());

        // The devices' states, from their reports and the clock.
        Map<String, RolloutState.Device> devices = new LinkedHashMap<>(s.devices());
        for (var e : s.devices().entrySet()) {
            RolloutState.Device d = e.getValue();
            if (d.finished()) continue;
            FirmwareReport r = in.reports().get(e.getKey());
            RolloutState.Device next = d;
            if (r != null && in.id().equals(r.rollout()) && doc.firmware().equals(r.firmware()) && !r.state().equals(d.state())) {
                next = new RolloutState.Device(d.wave(), r.state(), r.reason(), d.targetAt(), r.at());
            }
            if (!next.finished() && d.targetAt() != null && in.now().isAfter(Instant.parse(d.targetAt()).plus(timeout))) {
                next = new RolloutState.Device(d.wave(), "timed-out",
                        "no healthy report within the health timeout (" + dev.meerkat.config.Durations.format(timeout)
                                + "); last state " + next.state(), d.targetAt(), now);
            }
            devices.put(e.getKey(), next);
        }
        int failures = (int) devices.values().stream().filter(RolloutState.Device::failed).count();
        int population = s.population() > 0 ? s.population() : in.members().size();
        List<RolloutState.Wave> waves = new ArrayList<>(s.waves());
        int accepted = s.failuresAccepted();
        String status = s.status();
        String reason = s.reason();
        int pausedAt = s.pausedAtDocVersion();

        // The operator's word first.
        if (doc.control().equals("abort")) {
            return new Plan(state(in, "aborted", "aborted by the operator", population, waves, devices, failures, accepted, pausedAt), List.of());
        }
        if (doc.control().equals("pause")) {
            if (!status.equals("paused")) pausedAt = in.docVersion();
            return new Plan(state(in, "paused", "paused by the operator", population, waves, devices, failures, accepted, pausedAt),
                    current(waves, devices));
        }
        if (status.equals("paused")) {
            if (in.docVersion() <= pausedAt) {
                return new Plan(state(in, status, reason, population, waves, devices, failures, accepted, pausedAt), current(waves, devices));
            }
            // Written since the pause with control run: the operator resumes, and accepts the failures so far.
            accepted = failures;
            pausedAt = -1;
            reason = null;
        }
        int allowed = doc.maxFailures().floorOf(population);
        if (failures - accepted > allowed) {
            String why = (failures - accepted) + " device(s) failed, more than maxFailures allows (" + allowed + " of "
                    + population + "); resume to go on";
            return new Plan(state(in, "paused", why, population, waves, devices, failures, accepted, in.docVersion()),
                    current(waves, devices));
        }

        // The current wave is over when each of its devices is healthy or failed.
        if (!waves.isEmpty()) {
            int i = waves.size() - 1;
            RolloutState.Wave w = waves.get(i);
            if (w.finishedAt() == null) {
                boolean over = w.devices().stream().allMatch(d -> devices.get(d).finished());
                if (!over) {
                    return new Plan(state(in, "running", null, population, waves, devices, failures, accepted, -1), current(waves, devices));
                }
                waves.set(i, new RolloutState.Wave(w.goal(), w.devices(), w.startedAt(), now));
            }
        }
        if (waves.size() >= doc.waves().size()) {
            long healthy = devices.values().stream().filter(RolloutState.Device::healthy).count();
            return new Plan(state(in, "completed", healthy + " of " + devices.size() + " device(s) healthy", population, waves,
                    devices, failures, accepted, -1), List.of());
        }

        // The next wave: the first devices not yet chosen, in the rollout's fixed order.
        int goal = Math.min(population, doc.waves().get(waves.size()).of(population));
        int wanted = Math.max(0, goal - devices.size());
        Set<String> chosen = devices.keySet();
        List<String> picked = in.members().stream().filter(m -> !chosen.contains(m))
                .sorted(Comparator.comparing((String m) -> order(in.id(), m)).thenComparing(m -> m))
                .limit(wanted).toList();
        int wave = waves.size();
        for (String d : picked) devices.put(d, new RolloutState.Device(wave, "targeted", null, now, now));
        waves.add(new RolloutState.Wave(goal, picked, now, null));
        return new Plan(state(in, "running", null, population, waves, devices, failures, accepted, -1), current(waves, devices));
    }

    /** The devices of the current wave still on their way: their target must name this rollout. */
    private static List<String> current(List<RolloutState.Wave> waves, Map<String, RolloutState.Device> devices) {
        if (waves.isEmpty()) return List.of();
        return waves.get(waves.size() - 1).devices().stream().filter(d -> !devices.get(d).finished()).toList();
    }

    private static RolloutState state(Input in, String status, String reason, int population, List<RolloutState.Wave> waves,
                                      Map<String, RolloutState.Device> devices, int failures, int accepted, int pausedAt) {
        return new RolloutState(status, reason, population, List.copyOf(waves), java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(devices)),
                failures, accepted, pausedAt, in.leader(), in.epoch(), in.now().toString());
    }

    /** A device's place in a rollout's order. */
    static String order(String rollout, String device) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((rollout + "/" + device).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether two states differ in anything but who wrote them and when (so an unchanged step writes nothing). */
    public static boolean same(RolloutState a, RolloutState b) {
        return a.status().equals(b.status()) && java.util.Objects.equals(a.reason(), b.reason())
                && a.population() == b.population() && a.waves().equals(b.waves()) && a.devices().equals(b.devices())
                && a.failures() == b.failures() && a.failuresAccepted() == b.failuresAccepted()
                && a.pausedAtDocVersion() == b.pausedAtDocVersion();
    }
}
