package dev.blivet.daemon.supervisor;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.blivet.common.protocol.JobState;
import java.time.Instant;

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
        @JsonProperty("containment_note") String containmentNote) {
    /** The note of every job when blivetd runs without a writable cgroup v2 (docs/architecture.md, "Containment"). */
    public static final String NOT_CONTAINED = "not contained: blivetd runs without cgroups, so stop reaches the"
            + " job's process group only, and a process that calls setsid() escapes it";
}
