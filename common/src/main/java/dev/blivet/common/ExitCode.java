package dev.blivet.common;

/**
 * The sysexits codes blivet uses for a failed start, with the kind that prefixes every message
 * ({@code "lock conflict: /run/web.lock is held by pid 4242"}). The native helper uses the same
 * numbers; this enum is the one place Java knows them.
 */
public enum ExitCode {
    USAGE(64, "invalid job spec"),
    NO_INPUT(66, "cannot run program"),
    NO_SPEC(66, "cannot read job spec"),
    NO_USER(67, "unknown user or group"),
    UNAVAILABLE(69, "lock conflict"),
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
