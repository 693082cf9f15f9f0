package dev.blivet.common;

import java.util.Set;

/**
 * One resource limit. {@link #INFINITY} stands for RLIM_INFINITY.
 *
 * @param name the lower-case name without RLIMIT_, as setrlimit(2) lists them
 */
public record RLimit(String name, long soft, long hard) {
    public static final long INFINITY = -1;

    public static final Set<String> NAMES = Set.of("as", "core", "cpu", "data", "fsize", "locks", "memlock",
            "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack");
}
