package dev.blivet.daemon.cgroup;

import dev.blivet.daemon.Log;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The jobs' cgroups inside blivetd's own cgroup (docs/architecture.md, "Containment"): one child
 * {@code job-NAME} per job, made 0755 by blivetd (root's in the root case, so no job's user can
 * write it), beside the leaf {@code supervisor} that holds blivetd. Thread-safe.
 */
public final class JobCgroups {
    /** Rounds of "read cgroup.procs, signal whoever is new": a job forking faster than this meets cgroup.kill. */
    private static final int SIGNAL_ROUNDS = 16;
    /** Rounds of SIGKILL to every member where the kernel lacks cgroup.kill (before 5.14). */
    private static final int KILL_ROUNDS = 1000;

    private final CgroupDir.Native lib;
    private final CgroupDir base;
    private final EmptyWatcher watcher;
    private final boolean hasKill;
    private final Log log;
    private final Map<String, CgroupDir> open = new ConcurrentHashMap<>();

    JobCgroups(CgroupDir.Native lib, CgroupDir base, Log log) throws IOException {
        this.lib = lib;
        this.base = base;
        this.log = log;
        this.watcher = new EmptyWatcher(lib, log);
        int kill = lib.libc().openat(base.fd(), "cgroup.kill", CgroupDir.PATH_FLAGS, 0);
        this.hasKill = kill >= 0;
        if (kill >= 0) {
            lib.libc().close(kill);
        }
    }

    /** blivetd's cgroup: the parent of {@code supervisor} and of every job's cgroup. */
    public Path base() {
        return base.path();
    }

    CgroupDir baseDir() {
        return base;
    }

    /** Whether the kernel has cgroup.kill (5.14+); without it a kill is SIGKILL to each member until none is left. */
    public boolean hasKill() {
        return hasKill;
    }

    /**
     * Enables {@code controllers} for the jobs' cgroups (blivetd's cgroup.subtree_control), so
     * their limit files exist. Refused by the kernel, with the reason, where the parent lacks them.
     */
    public void enableControllers(java.util.Set<String> controllers) throws IOException {
        if (!controllers.isEmpty()) {
            base.write("cgroup.subtree_control", controllers.stream().map(c -> "+" + c)
                    .collect(java.util.stream.Collectors.joining(" ")));
        }
    }

    /** The job's cgroup, made if it does not exist yet. */
    public JobCgroup job(String name) throws IOException {
        String dirName = CgroupNames.job(name);
        CgroupDir dir = open.get(name);
        if (dir == null) {
            CgroupDir made = base.child(dirName, true);
            dir = open.putIfAbsent(name, made);
            if (dir == null) {
                dir = made;
            } else {
                made.close();
            }
        }
        return new JobCgroup(name, dir);
    }

    /** The job's cgroup if it exists (a later blivetd finds the cgroup of a job it re-adopts). */
    public Optional<JobCgroup> existing(String name) {
        CgroupDir dir = open.get(name);
        if (dir != null) {
            return Optional.of(new JobCgroup(name, dir));
        }
        try {
            CgroupDir found = base.childIfExists(CgroupNames.job(name));
            if (found == null) {
                return Optional.empty();
            }
            CgroupDir raced = open.putIfAbsent(name, found);
            if (raced != null) {
                found.close();
                found = raced;
            }
            return Optional.of(new JobCgroup(name, found));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * A new fd of the job's cgroup directory for the spawn helper, which writes its own pid to
     * the cgroup.procs under it before it forks the job. Close-on-exec; the caller closes it.
     */
    public int openForSpawn(String name) throws IOException {
        JobCgroup cgroup = job(name);
        int fd = lib.libc().openat(cgroup.directory().fd(), ".", CgroupDir.DIR_FLAGS, 0);
        if (fd < 0) {
            throw new CgroupException("open " + cgroup.dir() + ": " + lib.strerror(lib.errno()), lib.errno());
        }
        return fd;
    }

    /** Whether any process of the job lives (false when it has no cgroup). */
    public boolean populated(String name) {
        return existing(name).map(cgroup -> {
            try {
                return cgroup.populated();
            } catch (IOException e) {
                return false;
            }
        }).orElse(false);
    }

    /**
     * Sends {@code signal} to every process of the job, re-reading cgroup.procs until a round
     * finds no one new (a process forked after its parent was signalled did not inherit it).
     * Each pid is reached through a pidfd, and only after /proc shows that pid in the job's
     * cgroup while the pidfd still refers to it, so a pid reused meanwhile is never hit.
     *
     * @return how many processes were signalled
     */
    public int signalAll(String name, int signal) {
        Optional<JobCgroup> cgroup = existing(name);
        if (cgroup.isEmpty()) {
            return 0;
        }
        Set<Integer> signalled = new HashSet<>();
        for (int round = 0; round < SIGNAL_ROUNDS; round++) {
            List<Integer> fresh = new ArrayList<>();
            try {
                for (int pid : cgroup.get().pids()) {
                    if (!signalled.contains(pid)) {
                        fresh.add(pid);
                    }
                }
            } catch (IOException e) {
                break; // removed: nothing left
            }
            if (fresh.isEmpty()) {
                break;
            }
            for (int pid : fresh) {
                signalMember(pid, cgroup.get().cgroupPath(), signal);
                signalled.add(pid);
            }
        }
        return signalled.size();
    }

    /** SIGKILL to every process of the job: cgroup.kill, or (before 5.14) SIGKILL to each member until none is left. */
    public void killAll(String name) {
        Optional<JobCgroup> cgroup = existing(name);
        if (cgroup.isEmpty()) {
            return;
        }
        if (hasKill) {
            try {
                cgroup.get().directory().write("cgroup.kill", "1");
                return;
            } catch (IOException e) {
                log.warn("job " + name + ": " + e.getMessage() + "; sending SIGKILL to each process instead");
            }
        }
        for (int round = 0; round < KILL_ROUNDS && populated(name); round++) {
            if (signalAll(name, SIGKILL) == 0) {
                break;
            }
        }
    }

    /** Runs {@code then} once the job's cgroup holds no process (at once when it holds none or does not exist). */
    public void whenEmpty(String name, Runnable then) {
        Optional<JobCgroup> cgroup = existing(name);
        if (cgroup.isEmpty()) {
            then.run();
            return;
        }
        try {
            watcher.whenEmpty(cgroup.get().directory(), then);
        } catch (IOException e) {
            log.error("job " + name + ": cannot watch " + cgroup.get().dir() + ": " + e.getMessage());
            then.run(); // a stop must not hang on a watch the kernel refused; the kill already went out
        }
    }

    /** Removes the job's cgroup if it is empty; false if processes (or a child cgroup) remain. */
    public boolean remove(String name) {
        String dirName = CgroupNames.job(name);
        CgroupDir dir = open.remove(name);
        boolean removed = base.removeChild(dirName);
        if (dir != null) {
            if (removed) {
                dir.close();
            } else {
                open.putIfAbsent(name, dir);
            }
        }
        return removed;
    }

    /** The names of the jobs that have a cgroup (a job's cgroup may outlive the job: kill_mode "main"). */
    public List<String> jobNames() {
        List<String> names = new ArrayList<>();
        try {
            for (String child : base.children()) {
                if (CgroupNames.isJob(child)) {
                    names.add(child.substring(CgroupNames.JOB_PREFIX.length()));
                }
            }
        } catch (IOException e) {
            log.warn("cannot list " + base.path() + ": " + e.getMessage());
        }
        return names;
    }

    private static final int SIGKILL = 9;

    private void signalMember(int pid, String cgroupPath, int signal) {
        int pidfd = (int) lib.libc().syscall(CgroupLibC.SYS_PIDFD_OPEN, pid, 0);
        if (pidfd < 0) {
            return; // gone
        }
        try {
            if (inCgroup(pid, cgroupPath)) {
                // Fails with ESRCH if the pidfd's process died before /proc was read: then /proc may
                // have shown another process of that number, and it is not signalled.
                lib.libc().syscall(CgroupLibC.SYS_PIDFD_SEND_SIGNAL, pidfd, signal, 0L, 0);
            }
        } finally {
            lib.libc().close(pidfd);
        }
    }

    private static boolean inCgroup(int pid, String cgroupPath) {
        try {
            for (String line : Files.readString(Path.of("/proc", Integer.toString(pid), "cgroup"), StandardCharsets.UTF_8)
                    .split("\n")) {
                if (line.equals("0::" + cgroupPath)) {
                    return true;
                }
            }
        } catch (IOException e) {
            // gone
        }
        return false;
    }
}
