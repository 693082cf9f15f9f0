package dev.blivet.daemon.launch;

import dev.blivet.common.ExitCode;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.function.IntFunction;
import jnr.constants.platform.Errno;

/**
 * A failure blivet-spawn reported as data ("E&lt;step&gt; &lt;errno or check&gt;", then its
 * arguments, each after a NUL), and the one place that words it: the exit code and the message,
 * naming the culprit and, where there is one, what to do about it.
 *
 * @param errno the failed system call's errno, or 0 when a check failed
 * @param check the check that failed, or null when a system call did
 * @param args the path, name or numbers the step concerned, as the helper sent them
 */
record HelperFailure(Step step, int errno, Check check, List<String> args) {
    private static final int EPERM = Errno.EPERM.intValue();
    private static final int ENOENT = Errno.ENOENT.intValue();
    private static final int EACCES = Errno.EACCES.intValue();
    private static final int ELOOP = Errno.ELOOP.intValue();
    private static final int EWOULDBLOCK = Errno.EWOULDBLOCK.intValue();

    /** What the helper was doing; on the wire, the lower-case name with '-' for '_'. */
    enum Step {
        PLAN, MEMORY, FCNTL, DUP2, DEVNULL, SETSID, FORK, STDOUT, STDERR, TRUNCATE, LOCKFILE, LOCK, PIDFILE,
        PIDFILE_WRITE, CHROOT, CHDIR, SETRLIMIT, SETGROUPS, SETFSGID, SETFSUID, SETGID, SETUID, EXEC, SEARCH, CGROUP,
        PARENT;

        String wire() {
            return wireName(this);
        }
    }

    /** Why, where no errno says it; on the wire like {@link Step}. */
    enum Check {
        NOT_REGULAR, LINKS, OWNER, RECREATED, INEFFECTIVE, REGAINABLE, INTERPRETER, MAGIC, SIZE, SHORT, UNTERMINATED,
        ITEMS, RECORD, KEY, NUMBER, RANGE, RLIMIT, RLIMIT_NAME, RLIMITS, INCOMPLETE, CLIENT_JOB, NOTIFY_FD, RESOLVE, CGROUP_FD,
        PARENT_GONE;

        String wire() {
            return wireName(this);
        }
    }

    HelperFailure {
        args = List.copyOf(args);
    }

    /**
     * The record after its letter: "step cause" then NUL-separated arguments.
     *
     * @throws IllegalArgumentException if it is not one the helper writes
     */
    static HelperFailure parse(String record) {
        String[] fields = record.split("\0", -1);
        String[] head = fields[0].split(" ", -1);
        if (head.length != 2) {
            throw new IllegalArgumentException("not \"step cause\": " + fields[0]);
        }
        Step step = byWire(Step.values(), head[0]);
        List<String> args = List.of(fields).subList(1, fields.length);
        if (!head[1].isEmpty() && head[1].chars().allMatch(Character::isDigit)) {
            return new HelperFailure(step, Integer.parseInt(head[1]), null, args);
        }
        return new HelperFailure(step, 0, byWire(Check.values(), head[1]), args);
    }

    /**
     * @param strerror the C library's text for an errno
     * @param jobUser the job's uid when it runs as another user (its paths are used with that
     *     user's permissions), else empty
     */
    LaunchException explain(IntFunction<String> strerror, OptionalInt jobUser) {
        Words words = new Words(strerror, jobUser);
        return new LaunchException(code(), words.message());
    }

    /** The sysexits code for this step and errno or check. */
    ExitCode code() {
        return switch (step) {
            case PLAN -> ExitCode.SOFTWARE;
            case STDOUT, STDERR, LOCKFILE, PIDFILE, PIDFILE_WRITE, TRUNCATE -> ExitCode.CANT_CREATE;
            case LOCK -> errno == EWOULDBLOCK ? ExitCode.UNAVAILABLE : ExitCode.CANT_CREATE;
            case SETGROUPS, SETFSGID, SETFSUID, SETGID, SETUID -> ExitCode.NO_PERMISSION;
            case EXEC -> check == Check.INTERPRETER || errno == ENOENT ? ExitCode.NO_INPUT
                    : errno == EACCES || errno == EPERM ? ExitCode.NO_PERMISSION : ExitCode.OS_ERROR;
            case SEARCH -> errno == EACCES ? ExitCode.NO_PERMISSION : ExitCode.NO_INPUT;
            // A live blivetd never sees its helper's parent gone: that would be a bug.
            case PARENT -> check == Check.PARENT_GONE ? ExitCode.SOFTWARE : ExitCode.OS_ERROR;
            case MEMORY, FCNTL, DUP2, DEVNULL, SETSID, FORK, CHROOT, CHDIR, SETRLIMIT, CGROUP -> ExitCode.OS_ERROR;
        };
    }

    private String arg(int i) {
        return i < args.size() ? args.get(i) : "?";
    }

    /** The message's wording, with what it needs beyond the report. */
    private final class Words {
        private final IntFunction<String> strerror;
        private final OptionalInt jobUser;

        Words(IntFunction<String> strerror, OptionalInt jobUser) {
            this.strerror = strerror;
            this.jobUser = jobUser;
        }

        String message() {
            String kind = code().kind();
            return switch (step) {
                case PLAN -> kind + ": " + (check == null ? "reading the plan on fd " + HelperProtocol.PLAN_FD + ": "
                        + error() : planProblem());
                case MEMORY -> kind + ": out of memory for the plan: " + error();
                case FCNTL -> kind + ": fcntl fd " + arg(0) + ": " + error();
                case DUP2 -> kind + ": dup2 fd " + arg(0) + " to " + arg(1) + ": " + error();
                case DEVNULL -> kind + ": open: /dev/null: " + error();
                case SETSID, FORK, SETGROUPS -> kind + ": " + step.wire() + ": " + error();
                case STDOUT, STDERR -> jobPath("cannot create output file");
                case LOCKFILE -> jobPath("cannot create lockfile");
                case PIDFILE -> jobPath("cannot create pidfile");
                case CHROOT, CHDIR -> jobPath(kind + ": " + step.wire());
                case TRUNCATE -> "cannot truncate output file: " + arg(0) + ": " + error();
                case PIDFILE_WRITE -> "cannot write pidfile: " + arg(0) + ": " + error();
                case LOCK -> errno == EWOULDBLOCK ? kind + ": " + arg(0) + " is held by another process"
                        : "cannot lock lockfile: " + arg(0) + ": " + error();
                case SETRLIMIT -> kind + ": setrlimit " + arg(0) + ": " + error();
                case CGROUP -> kind + ": cannot move the job into its cgroup (writing cgroup.procs of the directory on fd "
                        + HelperProtocol.CGROUP_FD + "): " + error();
                case PARENT -> check == Check.PARENT_GONE
                        ? kind + ": the blivetd that spawned the helper is gone (its parent is now pid " + arg(0)
                                + "): the job was not forked"
                        : kind + ": prctl(PR_SET_PDEATHSIG): " + error();
                case SETFSGID, SETFSUID -> kind + ": " + step.wire() + "(" + arg(0) + ") did not take effect";
                case SETGID, SETUID -> check == Check.REGAINABLE ? kind + ": " + (step == Step.SETUID
                        ? "privileges" : "group 0") + " could be regained after " + step.wire() + "(" + arg(0) + ")"
                        : kind + ": " + step.wire() + "(" + arg(0) + "): " + error();
                case EXEC -> exec(kind);
                case SEARCH -> errno == EACCES
                        ? kind + ": " + arg(0) + ": not executable by the job's user, or in a directory of PATH ("
                                + arg(1) + ") it may not search"
                        : kind + ": " + arg(0) + ": not found in PATH (" + arg(1) + ")";
            };
        }

        private String error() {
            return strerror.apply(errno);
        }

        /** A job's path that could not be used, in words that say what to do about it. */
        private String jobPath(String what) {
            String prefix = what + ": " + arg(0) + ": ";
            if (check != null) {
                return prefix + switch (check) {
                    case NOT_REGULAR -> "not a regular file";
                    case LINKS -> "has " + arg(1) + " hard links; blivet uses an existing file only with one";
                    case OWNER -> "belongs to uid " + arg(1) + ", not to the job's user (uid " + arg(2)
                            + "); blivet uses an existing file only if it does";
                    case RECREATED -> "removed and recreated " + arg(1) + " times while it was being opened";
                    default -> "failed check " + check.wire();
                };
            }
            if (errno == ELOOP) {
                return prefix + "a component of the path is a symbolic link, which blivet never follows; name the real path";
            }
            if (errno == EACCES && jobUser.isPresent()) {
                return prefix + error() + " to the job's user (uid " + Integer.toUnsignedString(jobUser.getAsInt())
                        + "), whose permissions blivet uses for the job's paths; give it a directory of its own"
                        + " (as systemd's RuntimeDirectory= does)";
            }
            return prefix + error();
        }

        private String exec(String kind) {
            if (check == Check.INTERPRETER) {
                return kind + ": " + arg(0) + ": its interpreter (#! line) or dynamic loader does not exist";
            }
            if (errno == EACCES || errno == EPERM) {
                return kind + ": execve " + arg(0) + ": " + error() + " (can the job's user search every directory on"
                        + " the way?)";
            }
            return errno == ENOENT ? kind + ": " + arg(0) + ": " + error() : kind + ": execve " + arg(0) + ": " + error();
        }

        private String planProblem() {
            return switch (check) {
                case MAGIC -> "plan has no magic (helper and blivetd versions differ?)";
                case SIZE -> "plan size " + arg(0);
                case SHORT -> "reading the plan: short";
                case UNTERMINATED -> "plan not NUL-terminated";
                case ITEMS -> "plan has " + arg(0) + " items";
                case RECORD -> "plan record without '=': " + arg(0);
                case KEY -> "unknown plan key " + arg(0) + " (helper and blivetd versions differ?)";
                case NUMBER -> "bad number for " + arg(0) + ": " + arg(1);
                case RANGE -> arg(0) + " out of range: " + arg(1);
                case RLIMIT -> "bad rlimit " + arg(0);
                case RLIMIT_NAME -> "unknown rlimit " + arg(0);
                case RLIMITS -> "more than " + arg(0) + " rlimits";
                case INCOMPLETE -> "plan lacks exec, argv or chdir";
                case CLIENT_JOB -> "client_job needs an identity and no chroot";
                case NOTIFY_FD -> "notify fd requested but fd " + HelperProtocol.READY_FD + " is not open";
                case RESOLVE -> "unknown resolve " + arg(0);
                case CGROUP_FD -> "cgroup requested but fd " + HelperProtocol.CGROUP_FD + " is not open";
                default -> "plan failed check " + check.wire();
            };
        }
    }

    private static String wireName(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static <E extends Enum<E>> E byWire(E[] values, String wire) {
        for (E value : values) {
            if (wireName(value).equals(wire)) {
                return value;
            }
        }
        throw new IllegalArgumentException("unknown " + values[0].getDeclaringClass().getSimpleName() + ": " + wire);
    }
}
