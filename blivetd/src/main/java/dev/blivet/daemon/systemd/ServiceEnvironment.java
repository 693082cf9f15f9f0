package dev.blivet.daemon.systemd;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The environment variables that speak to blivetd itself, not to its jobs: systemd's
 * (sd_notify(3), sd_listen_fds(3), sd_watchdog_enabled(3)) and the keeper's. A job that inherits
 * blivetd's environment must never see them: with NOTIFY_SOCKET it could tell systemd that
 * blivetd is ready, stopping or alive; with LISTEN_* or BLIVET_KEEPER_FD it would take fds it does
 * not have for blivetd's own.
 */
public final class ServiceEnvironment {
    public static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";
    public static final String WATCHDOG_USEC = "WATCHDOG_USEC";
    public static final String WATCHDOG_PID = "WATCHDOG_PID";
    public static final String JOURNAL_STREAM = "JOURNAL_STREAM";
    /** The keeper's fd (its name is the keeper's to define; repeated here only to keep it from jobs). */
    static final String KEEPER_FD = dev.blivet.daemon.keeper.KeeperLink.FD_ENV;
    static final String KEEPER_NOTIFY = dev.blivet.daemon.keeper.KeeperLink.NOTIFY_ENV;
    /** LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES: sd_listen_fds(3) hands them to one process only. */
    static final String LISTEN_PREFIX = "LISTEN_";

    private static final List<String> FOR_BLIVETD_ONLY = List.of(NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID, KEEPER_FD,
            KEEPER_NOTIFY);

    private ServiceEnvironment() {
    }

    /** {@code env} without the variables meant for blivetd alone: what a job with inherit_env gets. */
    public static Map<String, String> forJobs(Map<String, String> env) {
        Map<String, String> jobs = new HashMap<>(env);
        jobs.keySet().removeIf(key -> FOR_BLIVETD_ONLY.contains(key) || key.startsWith(LISTEN_PREFIX));
        return Map.copyOf(jobs);
    }

    /**
     * How often to send WATCHDOG=1: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises, if
     * systemd asked this process for pings: WATCHDOG_USEC is a positive number and WATCHDOG_PID is
     * unset or names this process (the keeper sets it to the JVM's pid; a process that inherited
     * someone else's watchdog must not ping for them).
     */
    public static Optional<Duration> watchdogInterval(Map<String, String> env, long pid) {
        String usec = env.get(WATCHDOG_USEC);
        String forPid = env.get(WATCHDOG_PID);
        if (usec == null || (forPid != null && !forPid.equals(Long.toString(pid)))) {
            return Optional.empty();
        }
        try {
            long micros = Long.parseLong(usec);
            return micros > 0 ? Optional.of(Duration.of(micros, ChronoUnit.MICROS).dividedBy(2)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
