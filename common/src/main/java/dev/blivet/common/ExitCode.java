package dev.blivet.common;

/**
 * The sysexits(3) values in blivet, the one place Java knows them: why a job could not be started
 * or its spec is invalid (each {@link SpecProblem} and a failed start carry one, with the kind
 * that prefixes its message: {@code "lock conflict: /run/web.lock is held by pid 4242"}), and
 * blivetd's own exit status when it cannot start ({@link #UNAVAILABLE}) or dies of a bug
 * ({@link #SOFTWARE}). The native helper exits with the same numbers.
 *
 * <p>Not to be confused with the two other codes: {@link CliExit} is blivetctl's process exit
 * status, a small stable set scripts branch on (a failed start is 3 there, whatever its sysexits
 * value); {@link dev.blivet.common.protocol.ErrorCode} is the protocol's error code, a string in
 * an error response ({@code "start_failed"}, whose message and {@code exit_code} carry this value).
 */
public enum ExitCode {
    USAGE(64, "invalid job spec"),
    NO_INPUT(66, "cannot run program"),
    NO_SPEC(66, "cannot read job spec"),
    NO_USER(67, "unknown user or group"),
    /** EX_UNAVAILABLE: a lock is held by another process; blivetd's exit status when it cannot start. */
    UNAVAILABLE(69, "lock conflict"),
    /** EX_SOFTWARE: a bug, or a report from the helper that makes no sense; blivetd's exit status on one. */
    SOFTWARE(70, "internal error"),
    /** The job itself exited or was killed before it was ready or within its start grace period. */
    JOB_EXITED(70, "start failed"),
    OS_ERROR(71, "os error"),
    CANT_CREATE(73, "cannot create"),
    /** EX_TEMPFAIL: the job did not report readiness in time and was killed. */
    TIMEOUT(75, "readiness timeout"),
    NO_PERMISSION(77, "permission denied");

    private final int code;
    private final String kind;

    ExitCode(int code, String kind) {
        this.code = code;
        this.kind = kind;
    }

    public int code() {
        return code;
    }

    /** The prefix of messages of this kind, e.g. "lock conflict". */
    public String kind() {
        return kind;
    }

    /** The code the helper reported (70 reads as internal error), or {@link #SOFTWARE} for a number blivet never uses. */
    public static ExitCode fromCode(int code) {
        for (ExitCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return SOFTWARE;
    }
}
