package dev.blivet.common;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * A job as its author wrote it (docs/jobspec.md). Absent fields are null; {@link JobSpecResolver}
 * applies the defaults and checks everything before anything is spawned.
 *
 * @param rlimits by name (nofile, nproc, core, ...): a number, "infinity", or {"soft": .., "hard": ..}
 * @param readyTimeout seconds to wait for readiness before the job is killed and the start fails
 * @param startGrace seconds the job must stay alive after it starts, or the start fails
 * @param inheritEnv pass blivetd's own environment to the job (off: the job gets only env + identity)
 * @param restartDelay seconds before the first restart; doubles each time up to restartDelayMax
 * @param restartLimit restarts allowed within restartWindow seconds, then the job is FAILED
 * @param stopSignal name ("TERM", "SIGINT") or number sent first by a stop
 * @param stopTimeout seconds between the stop signal and SIGKILL
 * @param autostart start it when blivetd loads it from the jobs directory, and, for a job a client
 *     started, when blivetd starts with no process of it left (after a reboot or a clean stop),
 *     unless its owner had stopped it
 * @param killMode whether the job's other processes are stopped when its main process exits
 * @param memoryMax bytes, with an optional K, M, G or T suffix (powers of 1024): the job cgroup's memory.max
 * @param tasksMax processes and threads the job may have at once: its cgroup's pids.max
 * @param cpuMax a share of one CPU as a percentage ("50%", "200%"): its cgroup's cpu.max
 * @param cpuWeight 1 to 10000 (100 when unset): its cgroup's cpu.weight
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobSpec(
        String name,
        List<String> command,
        Map<String, String> env,
        String chdir,
        String umask,
        String user,
        String group,
        String pidfile,
        String lockfile,
        String stdout,
        String stderr,
        Boolean append,
        String chroot,
        Map<String, JsonNode> rlimits,
        Readiness readiness,
        @JsonProperty("notify_fd") Integer notifyFd,
        @JsonProperty("ready_timeout") Double readyTimeout,
        @JsonProperty("start_grace") Double startGrace,
        @JsonProperty("inherit_env") Boolean inheritEnv,
        RestartPolicy restart,
        @JsonProperty("success_exit_codes") List<Integer> successExitCodes,
        @JsonProperty("restart_delay") Double restartDelay,
        @JsonProperty("restart_delay_max") Double restartDelayMax,
        @JsonProperty("restart_limit") Integer restartLimit,
        @JsonProperty("restart_window") Double restartWindow,
        @JsonProperty("stop_signal") String stopSignal,
        @JsonProperty("stop_timeout") Double stopTimeout,
        Boolean autostart,
        @JsonProperty("kill_mode") KillMode killMode,
        @JsonProperty("memory_max") String memoryMax,
        @JsonProperty("tasks_max") Integer tasksMax,
        @JsonProperty("cpu_max") String cpuMax,
        @JsonProperty("cpu_weight") Integer cpuWeight) {
    /**
     * A job's name: also its file name in blivetd's ledger, so no "/", and never "." or ".."
     * (no leading punctuation).
     */
    public static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}");
}
