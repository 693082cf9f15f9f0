package dev.blivet.daemon.ledger;

import dev.blivet.daemon.launch.ExitStatus;

/**
 * A job's current process, kept in the runtime directory: meaningless after a reboot, so never
 * fsync'd, and checked against {@link #bootId} anyway.
 *
 * @param attempt the run number the supervisor gave this start
 * @param phase what blivetd was doing with it
 * @param pid null until the spawn helper reported its fork ("starting, no pid")
 * @param startTime field 22 of /proc/PID/stat when pid was recorded: pid and start time name one process
 * @param exit how an {@link Phase#ENDED} run ended, so the next JVM still shows it; null when unknown
 */
public record RunRecord(String name, long attempt, Phase phase, Integer pid, Integer pgid, Long startTime,
        String bootId, ExitStatus exit) {
    public RunRecord(String name, long attempt, Phase phase, Integer pid, Integer pgid, Long startTime, String bootId) {
        this(name, attempt, phase, pid, pgid, startTime, bootId, null);
    }

    public enum Phase {
        /** Recorded before the spawn; with a pid once the helper reported it, and so it stays while it runs. */
        STARTING,
        /**
         * No longer written (readiness added nothing re-adoption uses: {@link JobLedger#running});
         * still read, as {@code starting} with a pid, from a record an earlier blivetd left at a reexec.
         */
        RUNNING,
        /** A stop was signalled: the next JVM finishes it. */
        STOPPING,
        /** Ended and waiting out its restart delay: the next JVM starts it (the old one was reaped). */
        BACKOFF,
        /**
         * Ended in this boot with no restart pending (its policy said no, or it failed): the next
         * JVM leaves it down even with autostart, which is for a boot or a clean start of blivetd
         * (both come with no run record), not for a crash.
         */
        ENDED;

        String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Phase of(String wire) {
            for (Phase phase : values()) {
                if (phase.wire().equals(wire)) {
                    return phase;
                }
            }
            return null;
        }
    }

    RunRecord with(Phase newPhase) {
        return new RunRecord(name, attempt, newPhase, pid, pgid, startTime, bootId);
    }
}
