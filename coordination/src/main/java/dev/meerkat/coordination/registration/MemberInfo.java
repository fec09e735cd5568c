package dev.meerkat.coordination.registration;

import java.util.List;

/** The content of {@code /fleets/F/members/D} (SPEC §5). */
public record MemberInfo(String device, String fleet, String agentVersion, String firmware, String host,
                         List<String> addresses, String startedAt, List<String> capabilities) {
    public MemberInfo {
        addresses = List.copyOf(addresses);
        capabilities = List.copyOf(capabilities);
    }
}
