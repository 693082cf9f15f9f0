package dev.blivet.daemon.launch;

import dev.blivet.common.ResourceLimits;
import java.io.IOException;

/**
 * Where jobs run in cgroups: hands the launcher the job's cgroup directory, which the helper
 * joins before it forks the job (docs/architecture.md, "Containment").
 */
@FunctionalInterface
public interface JobCgroupFds {
    /**
     * A new close-on-exec fd of the job's cgroup directory, made if missing, with {@code limits}
     * written into it before the job can run; the caller closes it.
     */
    int open(String jobName, ResourceLimits limits) throws IOException;
}
