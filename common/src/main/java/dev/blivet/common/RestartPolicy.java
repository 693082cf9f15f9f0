package dev.blivet.common;

import com.fasterxml.jackson.annotation.JsonValue;

/** When blivetd starts a job again after it exits. */
public enum RestartPolicy {
    /** Never: an exit is final. */
    NO("no"),
    /** When the exit code is not one of success_exit_codes, or a signal killed it. */
    ON_FAILURE("on-failure"),
    /** After every exit that a stop request did not cause. */
    ALWAYS("always");

    private final String jsonName;

    RestartPolicy(String jsonName) {
        this.jsonName = jsonName;
    }

    @JsonValue
    public String jsonName() {
        return jsonName;
    }
}
