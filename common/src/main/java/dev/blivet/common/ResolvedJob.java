package dev.blivet.common;

import java.time.Duration;
import java.util.List;

/**
 * A job spec after validation: defaults applied, the program found, the user and groups looked
 * up, the environment composed. What the launcher needs and nothing left to decide.
 *
 * @param program the absolute path to execve (inside {@code chroot} when one is set); for a non-root
 *     client of a root blivetd, the program as the spec gave it (a bare name is looked up in PATH by
 *     the helper, as the client), since root's look-up would tell the client what it cannot see
 * @param env "KEY=value" entries, exactly the job's environment (blivetd adds NOTIFY_SOCKET)
 * @param identity null when the job keeps blivetd's own identity
 * @param notifyFd the fd number handed to a notify-fd job, or -1
 * @param limits the cgroup limits written into the job's cgroup before it runs
 * @param clientJob asked for by a non-root client of a root blivetd: its rlimits are set only
 *     after the privilege drop, so that it cannot raise its own hard limits through root
 */
public record ResolvedJob(
        String name,
        String program,
        List<String> argv,
        List<String> env,
        int umask,
        String chroot,
        String chdir,
        String stdout,
        String stderr,
        boolean append,
        String lockfile,
        String pidfile,
        Identity identity,
        List<RLimit> rlimits,
        Readiness readiness,
        int notifyFd,
        Duration readyTimeout,
        Duration startGrace,
        boolean clientJob,
        Supervision supervision,
        ResourceLimits limits) {

    public ResolvedJob {
        argv = List.copyOf(argv);
        env = List.copyOf(env);
        rlimits = List.copyOf(rlimits);
        limits = limits == null ? ResourceLimits.NONE : limits;
    }

    /** A job without cgroup limits. */
    public ResolvedJob(String name, String program, List<String> argv, List<String> env, int umask, String chroot,
            String chdir, String stdout, String stderr, boolean append, String lockfile, String pidfile,
            Identity identity, List<RLimit> rlimits, Readiness readiness, int notifyFd, Duration readyTimeout,
            Duration startGrace, boolean clientJob, Supervision supervision) {
        this(name, program, argv, env, umask, chroot, chdir, stdout, stderr, append, lockfile, pidfile, identity,
                rlimits, readiness, notifyFd, readyTimeout, startGrace, clientJob, supervision, ResourceLimits.NONE);
    }
}
