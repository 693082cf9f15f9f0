package dev.blivet.common;

import dev.blivet.common.protocol.ErrorCode;

/**
 * The process exit status of {@code blivetctl}, the one place it is defined: scripts branch on
 * it, so the values are never renumbered, only added. 0 is success and nothing else is; a job's
 * own sysexits code ({@link ExitCode}, a failed start's 69, say) is reported in the output, never
 * as blivetctl's exit status, so that each value below means one thing. blivetd's protocol error
 * codes ({@link ErrorCode}) map onto it by {@link #of(ErrorCode)}.
 */
public enum CliExit {
    OK(0, "ok", "success"),
    /** Anything not covered below: blivetd's internal error, a protocol mismatch, an I/O error. */
    ERROR(1, "error", "any other error (blivetd's internal error, an I/O error)"),
    /** picocli's convention for a command line it cannot parse; also a request blivetd calls malformed. */
    USAGE(2, "usage", "usage error: unknown command or option, bad argument"),
    /** LSB's "program is not running": a failed start, a job that failed or ended, a state conflict. */
    NOT_RUNNING(3, "not_running", "the job failed or is not running (a failed start; status NAME of a job that"
            + " is not running; the wrong state for the request)"),
    /** As systemctl's "no such unit". */
    NOT_FOUND(4, "not_found", "no such job"),
    PERMISSION_DENIED(5, "permission_denied", "permission denied (another user's job; reload needs root)"),
    TIMEOUT(6, "timeout", "timed out (wait --timeout, start --timeout)"),
    /** Nothing answers on the socket: blivetd is not running, or listens elsewhere. */
    UNREACHABLE(7, "unreachable", "blivetd unreachable: nothing listens on the socket"),
    INVALID_SPEC(8, "invalid_spec", "invalid job spec (validate, start FILE, reload)");

    private final int code;
    private final String id;
    private final String meaning;

    CliExit(int code, String id, String meaning) {
        this.code = code;
        this.id = id;
        this.meaning = meaning;
    }

    /** The process exit status. */
    public int code() {
        return code;
    }

    /** The machine name used in {@code --json} errors raised by blivetctl itself, e.g. "unreachable". */
    public String id() {
        return id;
    }

    /** One line for --help and the exit code table. */
    public String meaning() {
        return meaning;
    }

    /** The exit code for an error blivetd answered with. */
    public static CliExit of(ErrorCode error) {
        return switch (error) {
            case BAD_REQUEST, LINE_TOO_LONG -> USAGE;
            case INVALID_SPEC -> INVALID_SPEC;
            case NOT_FOUND -> NOT_FOUND;
            case CONFLICT, START_FAILED, LIMIT_EXCEEDED -> NOT_RUNNING;
            case PERMISSION_DENIED -> PERMISSION_DENIED;
            case TIMEOUT -> TIMEOUT;
            case TOO_MANY_CLIENTS, SHUTTING_DOWN -> UNREACHABLE;
            case UNKNOWN_OP, INTERNAL -> ERROR;
        };
    }
}
