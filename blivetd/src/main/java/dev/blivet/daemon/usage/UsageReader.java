package dev.blivet.daemon.usage;

import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * The live part of a job's status, read in the request path when a client asks (publishing stays
 * cheap): its processes and, where it has a cgroup, its usage. Bounded work: one cgroup.procs
 * (or, without cgroups, one pass over /proc) and a few small cgroup files.
 */
public final class UsageReader {
    /** What a status shows of a running job. */
    public record Live(ProcessLister.Listing listing, JobUsage usage) {
    }

    private final JobCgroups cgroups;
    private final ProcessLister lister;

    public UsageReader(JobCgroups cgroups, Path proc) {
        this.cgroups = cgroups;
        this.lister = new ProcessLister(proc);
    }

    /** @param pid the job's main process, or null */
    public Live read(String jobName, Integer pid) {
        Path cgroup = cgroups.dirOf(jobName);
        if (cgroup != null) {
            return new Live(lister.inCgroup(cgroup), CgroupUsage.read(cgroup));
        }
        // Only the live main process's own session: a session id stays reserved while a member
        // lives, but the helper's session (pgid) may have emptied (the job called setsid) and its
        // number gone to another user's process, whose command line is not this user's to read.
        Set<Integer> sessions = new TreeSet<>();
        if (pid != null) {
            lister.sessionOf(pid).ifPresent(sessions::add);
        }
        if (sessions.isEmpty()) {
            return new Live(new ProcessLister.Listing(java.util.List.of(), 0), JobUsage.NONE);
        }
        return new Live(lister.inSessions(sessions, pid), JobUsage.NONE);
    }

    /**
     * The table's part (status of every job): only what its cgroup's files say (usage and the
     * count of cgroup.procs), never a pass over /proc per job; nothing without a cgroup.
     */
    public Live readForTable(String jobName) {
        Path cgroup = cgroups.dirOf(jobName);
        if (cgroup == null) {
            return null;
        }
        ProcessLister.Listing listing = lister.inCgroup(cgroup);
        return new Live(new ProcessLister.Listing(java.util.List.of(), listing.total()), CgroupUsage.read(cgroup));
    }
}
