package dev.blivet.daemon.ledger;

import dev.blivet.common.JobSpec;

/**
 * A job as blivetd accepted it, kept under --state-dir across restarts and reboots.
 *
 * @param owner the uid the job runs for and answers to
 * @param source "client" or "jobs-dir" (the directory stays the source of truth for those specs)
 * @param up the desired state: false once its owner stopped it, so a reboot does not start it (kept
 *     in the marker {@code NAME.down} beside the record, not in the record)
 * @param spec the spec as accepted (its canonical JSON is what is written)
 */
public record SpecRecord(String name, int owner, String source, boolean up, JobSpec spec) {
    /**
     * The source of a job read from the jobs directory. Its file there is its durable source, so
     * its record is written without fsync (docs/architecture.md, "Custody: the ledger").
     */
    public static final String JOBS_DIR = "jobs-dir";
}
