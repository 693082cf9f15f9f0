package dev.blivet.daemon.cgroup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One job's cgroup, for readers and for the limits of a job (status, cpu.stat, memory.max): its
 * directory, its members, and its interface files read and written relative to a verified fd.
 * Obtained from {@link JobCgroups#job(String)} or {@link JobCgroups#existing(String)}; the
 * supervisor's stop path goes through {@link JobCgroups} itself.
 */
public final class JobCgroup {
    private final String jobName;
    private final CgroupDir dir;

    JobCgroup(String jobName, CgroupDir dir) {
        this.jobName = jobName;
        this.dir = dir;
    }

    public String jobName() {
        return jobName;
    }

    /** The directory on disk, e.g. /sys/fs/cgroup/unified/blivetd-0123456789abcdef/job-web. */
    public Path dir() {
        return dir.path();
    }

    /** The cgroup as /proc/PID/cgroup names it, e.g. /blivetd-0123456789abcdef/job-web. */
    public String cgroupPath() {
        return dir.cgroupPath();
    }

    /** Every process of the job now (cgroup.procs). */
    public List<Integer> pids() throws IOException {
        return dir.pids();
    }

    public boolean populated() throws IOException {
        return dir.populated();
    }

    /** An interface file of the job's cgroup (cpu.stat, memory.current, pids.current, ...). */
    public String read(String file) throws IOException {
        return checkedName(file, () -> dir.read(file));
    }

    /** Writes an interface file of the job's cgroup (memory.max, pids.max, cpu.max, cpu.weight, ...). */
    public void write(String file, String value) throws IOException {
        checkedName(file, () -> {
            dir.write(file, value);
            return null;
        });
    }

    CgroupDir directory() {
        return dir;
    }

    private interface Io<T> {
        T run() throws IOException;
    }

    private static <T> T checkedName(String file, Io<T> io) throws IOException {
        if (file.isEmpty() || file.contains("/") || file.startsWith(".")) {
            throw new IllegalArgumentException("not a cgroup interface file: " + file);
        }
        return io.run();
    }
}
