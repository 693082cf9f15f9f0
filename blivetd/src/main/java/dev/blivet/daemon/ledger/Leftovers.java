package dev.blivet.daemon.ledger;

/**
 * Whether anything of a job's earlier run may still be running when the ledger cannot name its
 * process: a crash after the spawn but before the helper's pid was recorded. A per-job cgroup
 * answers exactly ("populated?"); process groups cannot, so the fallback says {@link Verdict#UNKNOWN}
 * and the job is not started again (docs/architecture.md, "Custody": the residual window).
 */
@FunctionalInterface
public interface Leftovers {
    enum Verdict {
        /** Nothing of the job runs: it may start again. */
        NONE,
        /** Something of the job still runs. */
        PRESENT,
        /** No way to tell. */
        UNKNOWN
    }

    Verdict check(String jobName);

    /** Without per-job cgroups. */
    static Leftovers unknowable() {
        return name -> Verdict.UNKNOWN;
    }
}
