package dev.blivet.common.protocol;

import com.fasterxml.jackson.annotation.JsonValue;

/** The stable machine codes of protocol errors (docs/protocol.md). Never renamed, only added. */
public enum ErrorCode {
    /** Not JSON, not an object, a field of the wrong type, or a required field missing. */
    BAD_REQUEST("bad_request"),
    UNKNOWN_OP("unknown_op"),
    /** The request line exceeded {@link Protocol#MAX_LINE_BYTES}; the connection is closed. */
    LINE_TOO_LONG("line_too_long"),
    /** The job spec failed validation; the error carries the sysexits code and every problem. */
    INVALID_SPEC("invalid_spec"),
    NOT_FOUND("not_found"),
    /** The request contradicts the job's state, e.g. removing a running job. */
    CONFLICT("conflict"),
    PERMISSION_DENIED("permission_denied"),
    /** The job could not be started; the error carries the sysexits code. */
    START_FAILED("start_failed"),
    TIMEOUT("timeout"),
    TOO_MANY_CLIENTS("too_many_clients"),
    /** A per-user limit (jobs, pending starts) refused the request; the message names the uid, the limit and its option. */
    LIMIT_EXCEEDED("limit_exceeded"),
    SHUTTING_DOWN("shutting_down"),
    INTERNAL("internal");

    private final String code;

    ErrorCode(String code) {
        this.code = code;
    }

    @JsonValue
    public String code() {
        return code;
    }

    public static ErrorCode fromCode(String code) {
        for (ErrorCode c : values()) {
            if (c.code.equals(code)) {
                return c;
            }
        }
        return INTERNAL;
    }
}
