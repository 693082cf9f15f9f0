package dev.blivet.daemon.usage;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What a job uses now, from its cgroup's files; each field null where its file does not exist
 * (the controller is not enabled, or the job has no cgroup): never guessed.
 *
 * @param cpuUsec CPU time of every process the job ever had, in microseconds (cpu.stat usage_usec)
 * @param tasks processes and threads now (pids.current)
 * @param memoryCurrent bytes now (memory.current)
 * @param memoryPeak the most bytes since the cgroup was made (memory.peak, Linux 5.19 and later)
 * @param oomKills processes the kernel killed for the memory limit (memory.events oom_kill)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobUsage(
        @JsonProperty("cpu_usec") Long cpuUsec,
        Long tasks,
        @JsonProperty("memory_current") Long memoryCurrent,
        @JsonProperty("memory_peak") Long memoryPeak,
        @JsonProperty("oom_kills") Long oomKills) {

    public static final JobUsage NONE = new JobUsage(null, null, null, null, null);

    public boolean isEmpty() {
        return equals(NONE);
    }
}
