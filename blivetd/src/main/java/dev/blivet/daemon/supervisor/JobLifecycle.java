package dev.blivet.daemon.supervisor;

import dev.blivet.common.RestartPolicy;
import dev.blivet.common.Supervision;
import dev.blivet.common.protocol.JobState;
import dev.blivet.daemon.launch.ExitStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.function.DoubleSupplier;

/**
 * The state machine of one job, pure: no processes, no clock, no threads. Each event returns the
 * {@link Action} the supervisor must carry out, so every transition is tested without forking.
 * {@link #moveTo} is the only place the state changes, and it refuses moves the table lacks.
 */
public final class JobLifecycle {
    /** What the supervisor must do after an event. */
    public sealed interface Action {
        /** Nothing to do. */
        record None() implements Action {
        }

        /** Launch the job now. */
        record Launch() implements Action {
        }

        /** Send the stop signal to the job's process group and arm the kill timer. */
        record SignalStop() implements Action {
        }

        /** Start again after this delay. */
        record ScheduleRestart(Duration delay) implements Action {
        }

        /** Drop the pending restart timer. */
        record CancelRestart() implements Action {
        }
    }

    public static final Action NONE = new Action.None();
    private static final double JITTER = 0.2;

    private static final Map<JobState, Set<JobState>> ALLOWED = Map.of(
            JobState.STOPPED, EnumSet.of(JobState.STARTING, JobState.RUNNING, JobState.FAILED),
            JobState.EXITED, EnumSet.of(JobState.STARTING, JobState.STOPPED),
            JobState.FAILED, EnumSet.of(JobState.STARTING, JobState.STOPPED),
            JobState.STARTING, EnumSet.of(JobState.RUNNING, JobState.BACKOFF, JobState.FAILED, JobState.STOPPING,
                    JobState.STOPPED),
            JobState.RUNNING, EnumSet.of(JobState.EXITED, JobState.BACKOFF, JobState.FAILED, JobState.STOPPING),
            JobState.STOPPING, EnumSet.of(JobState.STOPPED),
            JobState.BACKOFF, EnumSet.of(JobState.STARTING, JobState.STOPPED));

    private final DoubleSupplier random;
    private Supervision supervision;
    private JobState state = JobState.STOPPED;
    private final Deque<Instant> recentRestarts = new ArrayDeque<>();
    private int consecutiveFailures;
    private int restarts;
    private Instant runningSince;
    private String reason;

    /**
     * @param random uniform in [0, 1): jitter for the backoff delay
     */
    public JobLifecycle(Supervision supervision, DoubleSupplier random) {
        this.supervision = supervision;
        this.random = random;
    }

    public JobState state() {
        return state;
    }

    /** Restarts made by the policy since the last manual start. */
    public int restarts() {
        return restarts;
    }

    /** Why the job is FAILED or EXITED (or null). */
    public String reason() {
        return reason;
    }

    /** A changed spec's supervision applies from the next event on. */
    public void update(Supervision newSupervision) {
        this.supervision = newSupervision;
    }

    /** A manual start: resets the restart budget. Starting an active job does nothing. */
    public Action start() {
        if (state.hasProcess()) {
            return NONE;
        }
        recentRestarts.clear();
        consecutiveFailures = 0;
        restarts = 0;
        reason = null;
        moveTo(JobState.STARTING); // STOPPED|EXITED|FAILED|BACKOFF -> STARTING (a Launch drops any restart timer)
        return new Action.Launch();
    }

    /** The launch reported ready. */
    public Action ready(Instant now) {
        if (state == JobState.STOPPING) {
            return new Action.SignalStop(); // stopped while starting: stop it now that it runs
        }
        runningSince = now;
        moveTo(JobState.RUNNING); // STARTING -> RUNNING
        return NONE;
    }

    /** The launch failed; nothing of it runs. */
    public Action launchFailed(Instant now, String error) {
        reason = error;
        if (state == JobState.STOPPING) {
            moveTo(JobState.STOPPED); // STOPPING (asked while starting) -> STOPPED
            return NONE;
        }
        runningSince = null;
        return afterEnd(true, now, JobState.FAILED);
    }

    /** The reaper collected the job's exit. */
    public Action exited(ExitStatus exit, Instant now) {
        if (state == JobState.STOPPING) {
            moveTo(JobState.STOPPED); // STOPPING -> STOPPED
            return NONE;
        }
        if (state != JobState.RUNNING) {
            return NONE; // a STARTING job's exit arrives through launchFailed
        }
        boolean failure = !exit.exited() || !supervision.successExitCodes().contains(exit.code());
        reason = !failure ? null : exit.exited() ? "exited with " + exit.describe() : exit.describe();
        return afterEnd(failure, now, JobState.EXITED);
    }

    /** A stop request. */
    public Action stop() {
        switch (state) {
            case RUNNING -> {
                moveTo(JobState.STOPPING); // RUNNING -> STOPPING
                return new Action.SignalStop();
            }
            case STARTING -> {
                moveTo(JobState.STOPPING); // STARTING -> STOPPING: signalled once the launch ends
                return NONE;
            }
            case BACKOFF -> {
                moveTo(JobState.STOPPED); // BACKOFF -> STOPPED
                return new Action.CancelRestart();
            }
            case EXITED, FAILED -> {
                moveTo(JobState.STOPPED); // EXITED|FAILED -> STOPPED: acknowledged
                return NONE;
            }
            default -> {
                return NONE;
            }
        }
    }

    /**
     * A new blivetd re-adopted the job's process, which an earlier blivetd started (docs/architecture.md,
     * "Custody"): it runs, and its restart policy applies when it ends.
     */
    public Action adopted(Instant now) {
        runningSince = now;
        moveTo(JobState.RUNNING); // STOPPED (a job just read from the ledger) -> RUNNING
        return NONE;
    }

    /**
     * A re-adopted process ended and no one could tell how (blivetd was not its parent): a
     * failure for the restart policy, never a guessed exit code.
     */
    public Action endedUnknown(Instant now) {
        if (state == JobState.STOPPING) {
            moveTo(JobState.STOPPED); // STOPPING -> STOPPED
            return NONE;
        }
        if (state != JobState.RUNNING) {
            return NONE;
        }
        reason = "ended while blivetd was not its parent: exit status unknown";
        return afterEnd(true, now, JobState.EXITED);
    }

    /**
     * blivetd cannot tell whether the job runs (a crash between its spawn and the record of its
     * pid), or cannot use its record: it is FAILED and never started on its own, so it cannot
     * run twice.
     */
    public Action unknown(String why) {
        reason = why;
        moveTo(JobState.FAILED); // STOPPED (a job just read from the ledger) -> FAILED
        return NONE;
    }

    /** The restart delay is over. */
    public Action restartDue() {
        if (state != JobState.BACKOFF) {
            return NONE; // a stop or a manual start came first
        }
        moveTo(JobState.STARTING); // BACKOFF -> STARTING
        return new Action.Launch();
    }

    private Action afterEnd(boolean failure, Instant now, JobState stayDown) {
        boolean restart = supervision.restart() == RestartPolicy.ALWAYS
                || (supervision.restart() == RestartPolicy.ON_FAILURE && failure);
        if (!restart) {
            moveTo(stayDown);
            return NONE;
        }
        boolean ranLong = runningSince != null && !Duration.between(runningSince, now).minus(supervision.restartWindow())
                .isNegative();
        consecutiveFailures = ranLong ? 0 : consecutiveFailures;
        Instant windowStart = now.minus(supervision.restartWindow());
        while (!recentRestarts.isEmpty() && recentRestarts.peekFirst().isBefore(windowStart)) {
            recentRestarts.removeFirst();
        }
        if (recentRestarts.size() >= supervision.restartLimit()) {
            reason = "restart limit reached: " + recentRestarts.size() + " restarts within "
                    + supervision.restartWindow().toSeconds() + " s" + (reason == null ? "" : "; last: " + reason);
            moveTo(JobState.FAILED);
            return NONE;
        }
        recentRestarts.addLast(now);
        restarts++;
        Duration delay = backoff(consecutiveFailures++);
        moveTo(JobState.BACKOFF);
        return new Action.ScheduleRestart(delay);
    }

    /** restart_delay doubled per consecutive failure, capped, with +-20% jitter against herds. */
    private Duration backoff(int failuresBefore) {
        long base = supervision.restartDelay().toNanos();
        long cap = supervision.restartDelayMax().toNanos();
        long delay = base;
        for (int i = 0; i < failuresBefore && delay < cap; i++) {
            delay *= 2;
        }
        delay = Math.min(delay, cap);
        double jitter = 1 + JITTER * (2 * random.getAsDouble() - 1);
        return Duration.ofNanos(Math.round(delay * jitter));
    }

    private void moveTo(JobState next) {
        if (!ALLOWED.get(state).contains(next)) {
            throw new IllegalStateException("job state " + state + " cannot become " + next);
        }
        state = next;
    }
}
