package dev.blivet.daemon.ledger;

import dev.blivet.daemon.launch.ExitStatus;

/**
 * Decides, for each job the ledger holds, what a new blivetd does before it answers anyone
 * (docs/architecture.md, "Custody: the ledger", the crash-point table). The rule it keeps: a job
 * never runs twice, so a new instance starts only once the old one is proven gone, and a pid is
 * signalled only through a pidfd whose process has the recorded start time.
 */
public final class Readoption {
    private final AdoptionWatcher watcher;
    private final Leftovers leftovers;
    private final String bootId;

    public Readoption(AdoptionWatcher watcher, Leftovers leftovers, String bootId) {
        this.watcher = watcher;
        this.leftovers = leftovers;
        this.bootId = bootId;
    }

    /**
     * Pure but for the facts it looks up (/proc, the job's cgroup, the keeper's records), so the
     * jobs may be decided on several threads at once. Call {@link #decided} once all are.
     *
     * @param run the job's run record, or null
     * @param up whether the job's owner wants it running
     */
    public Verdict decide(String name, RunRecord run, boolean up) {
        if (run == null || !bootId.equals(run.bootId())) {
            return new Verdict.Down(); // after a reboot no pid of the record means anything
        }
        if (run.phase() == RunRecord.Phase.ENDED) {
            return leftovers.check(name) == Leftovers.Verdict.PRESENT
                    ? new Verdict.Unknown("it had ended, but processes of the job still run: stop them, then start it")
                    : new Verdict.Over(run);
        }
        boolean stayDown = !up || run.phase() == RunRecord.Phase.STOPPING;
        if (run.phase() == RunRecord.Phase.BACKOFF) {
            return stayDown ? new Verdict.Down() : restartIfGone(name, run.attempt());
        }
        if (run.pid() == null) {
            // A crash between the ledger write and the record of the spawned pid: the spawn may
            // or may not have happened.
            return switch (leftovers.check(name)) {
                case NONE -> stayDown ? new Verdict.Down() : new Verdict.Restart(run.attempt());
                case PRESENT -> new Verdict.Unknown("blivetd died while starting it (attempt " + run.attempt()
                        + ") before it recorded the pid, and processes of the job still run: stop them, then start it");
                case UNKNOWN -> new Verdict.Unknown("blivetd died while starting it (attempt " + run.attempt()
                        + ") before it recorded the pid; whether it runs cannot be told, so it is not started again"
                        + " (it must never run twice): look for its process, then blivetctl start " + name);
            };
        }
        AdoptedProcess process = watcher.adopt(run.pid(), run.pgid(), run.startTime());
        if (process != null) {
            return new Verdict.Adopt(process, run, stayDown);
        }
        // Gone, or the pid now names another process: never signalled, and ended as far as we know.
        ExitStatus exit = watcher.endedUnseen(run.pid(), run.startTime());
        if (!stayDown && leftovers.check(name) == Leftovers.Verdict.PRESENT) {
            return new Verdict.Unknown("its process " + run.pid() + " ended while blivetd was down, but other processes"
                    + " of the job still run: stop them, then start it");
        }
        return new Verdict.Ended(run.pid(), exit, run.attempt(), stayDown);
    }

    /** Every job is decided: from now on the ends of the adopted processes are watched. */
    public void decided() {
        watcher.watch();
    }

    private Verdict restartIfGone(String name, long attempt) {
        if (leftovers.check(name) == Leftovers.Verdict.PRESENT) {
            return new Verdict.Unknown("it was waiting to restart, but processes of the job still run: stop them,"
                    + " then start it");
        }
        return new Verdict.Restart(attempt);
    }
}
