package dev.blivet.common;

import java.time.Duration;
import java.util.List;

/**
 * A job spec after validation: defaults applied, the program found, the user and groups looked
 * up, the environment composed. What the launcher needs and nothing left to decide.
 *
 * @param program the absolute path to execve (inside {@code chroot} when one is set)
 * @param env "KEY=value" entries, exactly the job's environment (blivetd adds NOTIFY_SOCKET)
 * @param identity null when the job keeps blivetd's own identity
 * @param notifyFd the fd number handed to a notify-fd job, or -1
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
        Duration startGrace) {

    public ResolvedJob {
        argv = List.copyOf(argv);
        env = List.copyOf(env);
        rlimits = List.copyOf(rlimits);
    }

    public ResolvedJob withEnv(List<String> newEnv) {
        return new ResolvedJob(name, program, argv, newEnv, umask, chroot, chdir, stdout, stderr, append, lockfile,
                pidfile, identity, rlimits, readiness, notifyFd, readyTimeout, startGrace);
    }
}
