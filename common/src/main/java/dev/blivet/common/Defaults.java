package dev.blivet.common;

import java.time.Duration;

/** Defaults for job spec fields that are left out, and blivet's limits; docs/jobspec.md documents each one. */
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

    /**
     * The longest duration, in seconds, anything in blivet takes: every duration of a job spec
     * (ready_timeout, start_grace, restart_*, stop_timeout) and of a request or blivetctl option
     * (wait and stop timeouts). A day: longer than any sane wait, and small enough that a timer's
     * nanoseconds and a deadline's arithmetic never overflow.
     */
    public static final int MAX_SECONDS = 86_400;

    /** Highest fd number a job may ask for its notify fd: keeps the helper's fd layout small. */
    public static final int MAX_NOTIFY_FD = 255;

    /**
     * Jobs (of any state) one non-root uid may have in blivetd at once (blivetd
     * --max-jobs-per-user). Each costs a few KiB and, while it runs, up to 2 fds in blivetd;
     * 256 is far more than any one user's daemons, and 256 per user keeps a hostile user from
     * growing blivetd's heap and fd table without bound. Root and blivetd's own user are exempt.
     */
    public static final int MAX_JOBS_PER_USER = 256;
    /**
     * Starts (STARTING: spawned, not yet ready) one non-root uid may have pending at once
     * (blivetd --max-starts-per-user). Each holds up to 3 fds and a slot in the launch loop's
     * poll set until ready or ready_timeout (up to a day); 16 lets a user start a whole stack
     * at once and keeps a user's never-ready jobs from filling blivetd's fd table. A start
     * request past it is refused; a restart past it waits its turn. Root is exempt.
     */
    public static final int MAX_STARTS_PER_USER = 16;
}
