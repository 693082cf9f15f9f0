package dev.blivet.daemon.supervisor;

import dev.blivet.common.Defaults;

/**
 * What one non-root user may hold in blivetd, so that no user can delay another user's start or
 * any restart (docs/architecture.md, Rule 5). Root (uid 0) and blivetd's own uid are trusted and
 * not limited: they run blivetd.
 *
 * @param maxJobsPerUser jobs of one uid, in any state (blivetd --max-jobs-per-user)
 * @param maxStartsPerUser starts of one uid waiting for readiness at once (blivetd --max-starts-per-user)
 */
public record Limits(int maxJobsPerUser, int maxStartsPerUser) {
    public static final String JOBS_OPTION = "--max-jobs-per-user";
    public static final String STARTS_OPTION = "--max-starts-per-user";

    public Limits {
        if (maxJobsPerUser < 1 || maxStartsPerUser < 1) {
            throw new IllegalArgumentException("per-user limits must be at least 1: " + JOBS_OPTION + " "
                    + maxJobsPerUser + ", " + STARTS_OPTION + " " + maxStartsPerUser);
        }
    }

    public static Limits defaults() {
        return new Limits(Defaults.MAX_JOBS_PER_USER, Defaults.MAX_STARTS_PER_USER);
    }
}
