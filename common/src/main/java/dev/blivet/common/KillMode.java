package dev.blivet.common;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * What happens to a job's other processes when its main process exits (systemd's KillMode=).
 * Whatever the mode, a {@code stop} and blivetd's own shutdown reach every process of the job.
 */
public enum KillMode {
    /** Stop them as a stop would (stop_signal, SIGKILL after stop_timeout) before the exit is final. */
    ALL("all"),
    /** Leave them running; a later start of the job stops them first (systemd's KillMode=process). */
    MAIN("main");

    private final String jsonName;

    KillMode(String jsonName) {
        this.jsonName = jsonName;
    }

    @JsonValue
    public String jsonName() {
        return jsonName;
    }
}
