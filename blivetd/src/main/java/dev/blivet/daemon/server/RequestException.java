package dev.blivet.daemon.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.protocol.ErrorCode;

/** A request the server refuses before it reaches the supervisor: the protocol's code and a message for a person. */
public final class RequestException extends RuntimeException {
    private final ErrorCode code;
    private final transient JsonNode details;

    public RequestException(ErrorCode code, String message) {
        this(code, message, null);
    }

    /**
     * @param details extra machine-readable fields for the error object (e.g. exit_code), or null
     */
    public RequestException(ErrorCode code, String message, JsonNode details) {
        super(message, null, false, false);
        this.code = code;
        this.details = details;
    }

    public ErrorCode code() {
        return code;
    }

    public JsonNode details() {
        return details;
    }
}
