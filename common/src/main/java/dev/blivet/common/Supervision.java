package dev.blivet.common;

import java.time.Duration;
import java.util.Set;

/**
 * How blivetd supervises a started job: restarts with exponential backoff, and how it stops it.
 *
 * @param restartDelay the first backoff delay; each further restart doubles it, up to restartDelayMax
 * @param restartLimit restarts allowed within restartWindow before the job is FAILED
 * @param stopSignal the signal number a stop sends first, to the job's process group
 * @param stopTimeout how long a stop waits before SIGKILL to every process of the job
 * @param killMode whether the job's other processes are stopped when its main process exits
 */
public record Supervision(
        RestartPolicy restart,
        Set<Integer> successExitCodes,
        Duration restartDelay,
        Duration restartDelayMax,
        int restartLimit,
        Duration restartWindow,
        int stopSignal,
        Duration stopTimeout,
        boolean autostart,
        KillMode killMode) {

    public Supervision {
        successExitCodes = Set.copyOf(successExitCodes);
    }

    public static Supervision defaults() {
        return new Supervision(Defaults.RESTART, Set.of(0), Defaults.RESTART_DELAY, Defaults.RESTART_DELAY_MAX,
                Defaults.RESTART_LIMIT, Defaults.RESTART_WINDOW, Signals.number(Defaults.STOP_SIGNAL).orElseThrow(),
                Defaults.STOP_TIMEOUT, false, KillMode.ALL);
    }
}
