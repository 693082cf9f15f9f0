package dev.blivet.common;

import com.fasterxml.jackson.annotation.JsonValue;

/** How a job tells blivetd it is ready. */
public enum Readiness {
    /** Ready once execve succeeded. */
    EXEC("exec"),
    /** s6 style: the job writes a newline to the fd named in $BLIVET_NOTIFY_FD. */
    NOTIFY_FD("notify-fd"),
    /** systemd style: the job sends READY=1 to $NOTIFY_SOCKET. */
    SD_NOTIFY("sd-notify"),
    /**
     * A self-daemonizing program (systemd's Type=forking): ready once the initial process exits 0
     * and the job's pidfile, which the program writes and blivetd only reads, names a live
     * process of the job, which then becomes the job's main process.
     */
    FORKING("forking");

    private final String jsonName;

    Readiness(String jsonName) {
        this.jsonName = jsonName;
    }

    @JsonValue
    public String jsonName() {
        return jsonName;
    }
}
