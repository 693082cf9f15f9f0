package dev.blivet.daemon.supervisor;

import java.time.Duration;

/**
 * Every timer of the supervisor (stop escalation, restart backoff, wait timeouts) comes from
 * here, so a manual clock drives them all in SupervisorTest. A timer's task only posts an event
 * to the loop: it never touches a job itself (docs/architecture.md, Rule 3).
 */
public interface Timers extends AutoCloseable {
    /** A scheduled task; cancelling one that already ran does nothing. */
    interface Timer {
        void cancel();
    }

    Timer schedule(Duration delay, Runnable task);

    @Override
    default void close() {
    }
}
