package dev.blivet.common;

import java.time.Duration;

/** Defaults for job spec fields that are left out; docs/jobspec.md documents each one. */
public final class Defaults {
    private Defaults() {
    }

    public static final String CHDIR = "/";
    /** 022 as systemd's UMask=: blivet's 0 would make every file a job creates world-writable. */
    public static final int UMASK = 0022;
    /** The PATH a job gets when its env does not set one (systemd's default). */
    public static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    public static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration START_GRACE = Duration.ZERO;
    /** The fd a notify-fd job writes its readiness newline to, as s6's notification-fd. */
    public static final int NOTIFY_FD = 3;
    /** Tells a notify-fd job which fd to write its readiness newline to. */
    public static final String NOTIFY_FD_ENV = "BLIVET_NOTIFY_FD";
    /** sd_notify(3)'s variable. */
    public static final String NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET";
    public static final RestartPolicy RESTART = RestartPolicy.NO;
    public static final Duration RESTART_DELAY = Duration.ofSeconds(1);
    public static final Duration RESTART_DELAY_MAX = Duration.ofSeconds(60);
    /** Restarts allowed within RESTART_WINDOW before the job is given up as FAILED. */
    public static final int RESTART_LIMIT = 5;
    public static final Duration RESTART_WINDOW = Duration.ofSeconds(60);
    public static final String STOP_SIGNAL = "TERM";
    public static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    /** Highest fd number a job may ask for its notify fd: keeps the helper's fd layout small. */
    public static final int MAX_NOTIFY_FD = 255;
}
