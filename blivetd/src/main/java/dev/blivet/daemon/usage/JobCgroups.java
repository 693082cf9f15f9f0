package dev.blivet.daemon.usage;

import java.nio.file.Path;

/**
 * Where a job's cgroup is: the directory of its cgroup v2, or null when blivetd runs without
 * containment (process groups only, docs/architecture.md). A job's cgroup is derived from its
 * name only, so the answer needs no state.
 */
@FunctionalInterface
public interface JobCgroups {
    /** No cgroups at all: every job falls back to its process group and session. */
    JobCgroups NONE = name -> null;

    Path dirOf(String jobName);
}
