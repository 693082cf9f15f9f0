package dev.blivet.daemon.supervisor;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * A job's states. Which moves between them are allowed, and on which event, is written once: the
 * table in {@link JobLifecycle} (each move commented where it is made), so no drawing here can
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

    @JsonValue
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static JobState fromJson(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}
