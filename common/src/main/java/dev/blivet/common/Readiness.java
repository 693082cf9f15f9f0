package dev.blivet.common;

import com.fasterxml.jackson.annotation.JsonValue;

/** How a job tells blivetd it is ready. */
public enum Readiness {
    /** Ready once execve succeeded. */
    EXEC("exec"),
    /** s6 style: the job writes a newline to the fd named in $BLIVET_NOTIFY_FD. */
    NOTIFY_FD("notify-fd"),
    /** systemd style: the job sends READY=1 to $NOTIFY_SOCKET. */
    SD_NOTIFY("sd-notify");

    private final String jsonName;

    Readiness(String jsonName) {
        this.jsonName = jsonName;
    }

    @JsonValue
    public String jsonName() {
        return jsonName;
    }
}
