package dev.blivet.daemon.cgroup;

import dev.blivet.daemon.Log;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * At blivetd's shutdown, after every known job was stopped: kills whatever is left in any job's
 * cgroup (a job removed while kill_mode "main" kept its processes) and removes the cgroups, so a
 * stopped blivetd leaves no process of any job.
 */
public final class LeftoverSweep {
    /** SIGKILL takes effect at once; this only bounds a kernel that never reports the cgroup empty. */
    private static final long WAIT_SECONDS = 30;

    private final JobCgroups cgroups;
    private final Log log;

    public LeftoverSweep(JobCgroups cgroups, Log log) {
        this.cgroups = cgroups;
        this.log = log;
    }

    /**
     * Kills whatever is in the cgroup of job {@code name} and removes the cgroup, waiting at most
     * {@code wait} for it to empty: the start rehearsal's, which a crashed boot may have left.
     *
     * @return whether no cgroup of that name is left
     */
    public boolean clear(String name, java.time.Duration wait) {
        if (cgroups.existing(name).isEmpty()) {
            return true;
        }
        if (cgroups.populated(name)) {
            log.warn("job " + name + ": processes left in its cgroup (a rehearsal cut short); killing them");
            cgroups.killAll(name);
        }
        CountDownLatch empty = new CountDownLatch(1);
        cgroups.whenEmpty(name, empty::countDown);
        try {
            if (!empty.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return cgroups.remove(name);
    }

    public void run() {
        List<String> names = cgroups.jobNames();
        CountDownLatch empty = new CountDownLatch(names.size());
        for (String name : names) {
            if (cgroups.populated(name)) {
                log.warn("job " + name + ": processes left in its cgroup at shutdown; killing them");
                cgroups.killAll(name);
            }
            cgroups.whenEmpty(name, empty::countDown);
        }
        try {
            if (!empty.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                log.error("job cgroups still populated after " + WAIT_SECONDS + " s at shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (String name : names) {
            if (!cgroups.remove(name)) {
                log.warn("cannot remove the cgroup of job " + name + " under " + cgroups.base());
            }
        }
    }
}
