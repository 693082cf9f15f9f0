package dev.blivet.daemon.ledger;

import dev.blivet.daemon.launch.ExitStatus;

/** What re-adoption decided for one job of the ledger (see {@link Readoption}). */
public sealed interface Verdict {
    /** Its process still runs: it is RUNNING again with the same pid; with {@code stop}, a stop was under way or asked for. */
    record Adopt(AdoptedProcess process, RunRecord record, boolean stop) implements Verdict {
    }

    /**
     * Its process ended while no blivetd watched it: how ({@code exit}, null when no one could
     * tell), and whether its restart policy applies ({@code stayDown} when it was being stopped or
     * its owner wants it down).
     */
    record Ended(int pid, ExitStatus exit, long attempt, boolean stayDown) implements Verdict {
    }

    /** It was waiting to restart, and nothing of it runs: start it. */
    record Restart(long attempt) implements Verdict {
    }

    /** Whether something of it runs cannot be told: FAILED, never started on its own. */
    record Unknown(String reason) implements Verdict {
    }

    /** It ended by itself earlier in this boot, with no restart pending: it stays down, whatever autostart says. */
    record Over(RunRecord record) implements Verdict {
    }

    /** Nothing of it runs (a reboot, a clean stop, no run record): STOPPED, or started if autostart. */
    record Down() implements Verdict {
    }
}
