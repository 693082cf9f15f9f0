package dev.blivet.common.protocol;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * A job's states and their names on the wire (docs/protocol.md), for blivetd and its clients
 * alike. Which moves between them are allowed, and on which event, is written once: the table in
 * blivetd's {@code JobLifecycle} (each move commented where it is made), so no drawing here can
 * fall behind it.
 */
public enum JobState {
    /** Known, not running, and nobody wants it running. */
    STOPPED,
    /** Being launched: spawned, waiting for readiness and the start grace period. */
    STARTING,
    /** Ready and alive. */
    RUNNING,
    /** A stop was asked for: signalled, waiting for the reaper. */
    STOPPING,
    /** Exited by itself and stays down: restart policy "no", or a success under "on-failure". */
    EXITED,
    /** Failed to start with no retry left, or hit its restart limit. */
    FAILED,
    /** Waiting out the restart delay before the next start. */
    BACKOFF;

    /** A process of this job may be alive. */
    public boolean hasProcess() {
        return this == STARTING || this == RUNNING || this == STOPPING;
    }

    /** The state's name on the wire: "running". */
    @JsonValue
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException for a name that is no state */
    public static JobState fromJson(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}
