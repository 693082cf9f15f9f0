package dev.blivet.daemon.supervisor;

import dev.blivet.daemon.launch.ProcessGroups;

/**
 * Signals a job's processes. Two implementations: the job's cgroup
 * ({@code dev.blivet.daemon.cgroup.CgroupControl}: every process, whatever it did), and
 * {@link ProcessGroups} where no cgroup v2 is writable, which reaches a pid or a group only while
 * an unreaped child of ours proves it is still the job's (docs/architecture.md, Rule 2); a late
 * or stale number reaches nobody.
 */
public interface ProcessControl {
    /** To the group {@code pgid}, anchored by {@code mainPid} or another unreaped child in it. */
    void signalGroup(int pgid, int mainPid, int signal);

    /** To {@code pid} alone, while it is our unreaped child. */
    void signalProcess(int pid, int signal);

    /** Whether every process of a job is reached (a cgroup), or only its process group. */
    boolean contained();

    /** {@code signal} to every process of the job that can be reached. */
    void signalAll(JobProcesses job, int signal);

    /** SIGKILL to every process of the job (cgroup.kill where it can). */
    void killAll(JobProcesses job);

    /** Whether any process of the job is left. */
    boolean populated(JobProcesses job);

    /** Runs {@code then} once (on any thread) when no process of the job is left; at once if none is. */
    void whenEmpty(JobProcesses job, Runnable then);

    /** The job has no process and is gone or down: drop what holds its processes (its cgroup), if empty. */
    void release(String name);

    /** The directory of the job's cgroup, if blivetd contains jobs in cgroups and this one has one now. */
    default java.util.Optional<java.nio.file.Path> cgroupDir(String name) {
        return java.util.Optional.empty();
    }

    /** The fallback: process groups. */
    static ProcessControl of(ProcessGroups groups) {
        return new ProcessControl() {
            @Override
            public void signalGroup(int pgid, int mainPid, int signal) {
                groups.signalGroup(pgid, mainPid, signal);
            }

            @Override
            public void signalProcess(int pid, int signal) {
                groups.signalProcess(pid, signal);
            }

            @Override
            public boolean contained() {
                return false;
            }

            @Override
            public void signalAll(JobProcesses job, int signal) {
                if (job.pgid() != null) {
                    groups.signalGroup(job.pgid(), job.mainPid() == null ? 0 : job.mainPid(), signal);
                }
                if (job.mainPid() != null) {
                    groups.signalProcess(job.mainPid(), signal); // also when it left the group with setsid()
                }
            }

            @Override
            public void killAll(JobProcesses job) {
                signalAll(job, dev.blivet.common.Signals.SIGKILL);
            }

            @Override
            public boolean populated(JobProcesses job) {
                return groups.alive(job.pgid(), job.mainPid());
            }

            @Override
            public void whenEmpty(JobProcesses job, Runnable then) {
                groups.whenEmpty(job.pgid(), job.mainPid(), then);
            }

            @Override
            public void release(String name) {
            }
        };
    }
}
