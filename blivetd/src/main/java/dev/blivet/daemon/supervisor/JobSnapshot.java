package dev.blivet.daemon.supervisor;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.blivet.common.protocol.JobState;
import dev.blivet.daemon.usage.JobProcess;
import dev.blivet.daemon.usage.JobUsage;
import java.time.Instant;
import java.util.List;

/**
 * A job as clients see it (status, list, events) and as it will be persisted: plain values only.
 *
 * @param owner the uid that started or owns the job
 * @param exitCode the last exit's code, or null if it was killed by a signal or never exited
 * @param exitSignal the signal that killed it last time, or null
 * @param status the job's last sd-notify STATUS= text
 * @param contained whether every process of the job is in its own cgroup (false: its process
 *     group only, which setsid() escapes)
 * @param containmentNote why a job is not contained and what that means (null when it is)
 * @param processes the job's processes (the first {@code ProcessLister.MAX_LISTED}), only in a
 *     status reply: read when asked, never published
 * @param processCount how many processes the job has in all, likewise
 * @param usage what its cgroup says it uses, likewise; null fields where the files do not exist
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobSnapshot(
        String name,
        JobState state,
        Integer pid,
        Integer pgid,
        int owner,
        @JsonProperty("started_at") Instant startedAt,
        @JsonProperty("ready_at") Instant readyAt,
        @JsonProperty("exited_at") Instant exitedAt,
        @JsonProperty("exit_code") Integer exitCode,
        @JsonProperty("exit_signal") Integer exitSignal,
        @JsonProperty("core_dumped") Boolean coreDumped,
        int restarts,
        @JsonProperty("last_error") String lastError,
        String status,
        String source,
        boolean contained,
        @JsonProperty("containment_note") String containmentNote,
        List<JobProcess> processes,
        @JsonProperty("process_count") Integer processCount,
        JobUsage usage) {
    /** The note of every job when blivetd runs without a writable cgroup v2 (docs/architecture.md, "Containment"). */
    public static final String NOT_CONTAINED = "not contained: blivetd runs without cgroups, so stop reaches the"
            + " job's process group only, and a process that calls setsid() escapes it";

    /** A snapshot as the loop publishes it: without what is read only when a status asks. */
    public JobSnapshot(String name, JobState state, Integer pid, Integer pgid, int owner, Instant startedAt,
            Instant readyAt, Instant exitedAt, Integer exitCode, Integer exitSignal, Boolean coreDumped, int restarts,
            String lastError, String status, String source, boolean contained, String containmentNote) {
        this(name, state, pid, pgid, owner, startedAt, readyAt, exitedAt, exitCode, exitSignal, coreDumped, restarts,
                lastError, status, source, contained, containmentNote, null, null, null);
    }

    /** This snapshot with the live part a status reads; {@code processes} null to leave the list out. */
    public JobSnapshot withUsage(List<JobProcess> processes, Integer processCount, JobUsage usage) {
        return new JobSnapshot(name, state, pid, pgid, owner, startedAt, readyAt, exitedAt, exitCode, exitSignal,
                coreDumped, restarts, lastError, status, source, contained, containmentNote, processes, processCount,
                usage == null || usage.isEmpty() ? null : usage);
    }
}
