package dev.blivet.daemon.launch;

import dev.blivet.common.ExitCode;
import java.util.Locale;

/**
 * The protocol with blivet-spawn, Java's half: the plan's magic and keys, the fds posix_spawn
 * hands over and the report's record letters. The C half is blivet-spawn-protocol.h, and
 * HelperProtocolTest fails the build when the two disagree (the failure steps and checks are
 * {@link HelperFailure}'s, the rlimit names {@link dev.blivet.common.RLimit#NAMES}).
 */
final class HelperProtocol {
    /** The plan starts with this and a NUL. */
    static final String MAGIC = "BLVT1";
    static final int PLAN_FD = 3;
    static final int REPORT_FD = 4;
    static final int READY_FD = 5;
    /** The job's cgroup directory, joined by the helper before it forks the daemon ("cgroup=1"). */
    static final int CGROUP_FD = 6;
    /**
     * Report lines: the daemon was forked, the pidfile it opened, an output file it opened, it is
     * about to execve, a failure.
     */
    static final char FORKED = 'F';
    static final char PIDFILE = 'I';
    static final char OUTPUT = 'O';
    static final char EXEC = 'P';
    static final char FAILED = 'E';
    /** How the helper exits when it fails; the report, not this number, says why. */
    static final ExitCode HELPER_FAILED = ExitCode.SOFTWARE;

    /** The plan's "key=value" records; the key is the lower-case name. */
    enum PlanKey {
        EXEC, ARG, ENV, UMASK, CHROOT, CHDIR, STDOUT, STDERR, APPEND, LOCKFILE, PIDFILE, UID, GID, GROUP, RLIMIT,
        NOTIFY_FD, CLIENT_JOB, RESOLVE, CGROUP, PARENT;

        String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private HelperProtocol() {
    }
}
