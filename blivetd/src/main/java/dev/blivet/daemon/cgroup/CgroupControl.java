package dev.blivet.daemon.cgroup;

import dev.blivet.daemon.launch.ProcessGroups;
import dev.blivet.daemon.supervisor.JobProcesses;
import dev.blivet.daemon.supervisor.ProcessControl;

/**
 * {@link ProcessControl} by the job's cgroup: a stop reaches every process of the job whatever
 * it did (setsid, double fork), and "nothing is left" is the kernel's "populated 0". Signals to
 * the main process alone still go through {@link ProcessGroups} (an unreaped child of ours).
 */
public final class CgroupControl implements ProcessControl {
    private final JobCgroups cgroups;
    private final ProcessGroups groups;

    public CgroupControl(JobCgroups cgroups, ProcessGroups groups) {
        this.cgroups = cgroups;
        this.groups = groups;
    }

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
        return true;
    }

    @Override
    public void signalAll(JobProcesses job, int signal) {
        cgroups.signalAll(job.name(), signal);
    }

    @Override
    public void killAll(JobProcesses job) {
        cgroups.killAll(job.name());
    }

    @Override
    public boolean populated(JobProcesses job) {
        return cgroups.populated(job.name());
    }

    @Override
    public void whenEmpty(JobProcesses job, Runnable then) {
        cgroups.whenEmpty(job.name(), then);
    }

    @Override
    public void release(String name) {
        cgroups.remove(name);
    }

    @Override
    public java.util.Optional<java.nio.file.Path> cgroupDir(String name) {
        return cgroups.existing(name).map(JobCgroup::dir);
    }

    /** The jobs' cgroups, for readers of a job's whole state (status, limits). */
    public JobCgroups cgroups() {
        return cgroups;
    }
}
