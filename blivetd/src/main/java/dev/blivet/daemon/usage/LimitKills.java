package dev.blivet.daemon.usage;

import dev.blivet.common.Signals;
import dev.blivet.daemon.launch.ExitStatus;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Why a job hit its cgroup limits, in the words status shows: the kernel's OOM killer leaves
 * only a SIGKILL, and memory.events' oom_kill tells it apart from an operator's kill -9. Read
 * once the main process has exited and before its cgroup is removed (a job cgroup lives for one
 * run, so its counters are that run's).
 */
public final class LimitKills {
    public static final String MEMORY_LIMIT = "killed: memory limit";

    private LimitKills() {
    }

    /** "killed: memory limit" when a SIGKILL came with an oom_kill in {@code cgroup}; else empty. */
    public static Optional<String> reason(Path cgroup, ExitStatus exit) {
        if (cgroup == null || exit == null || exit.exited() || exit.signal() != Signals.SIGKILL) {
            return Optional.empty();
        }
        Long kills = CgroupUsage.keyed(cgroup.resolve("memory.events"), "oom_kill");
        return kills != null && kills > 0 ? Optional.of(MEMORY_LIMIT + " (memory_max; " + kills + " oom_kill)")
                : Optional.empty();
    }

    /** How often a fork or clone failed at tasks_max (pids.events "max"), or 0. */
    public static long tasksLimitHits(Path cgroup) {
        Long hits = cgroup == null ? null : CgroupUsage.keyed(cgroup.resolve("pids.events"), "max");
        return hits == null ? 0 : hits;
    }
}
