package dev.blivet.daemon.supervisor;

import dev.blivet.common.JobSpec;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.protocol.JobState;
import dev.blivet.daemon.launch.ExitStatus;
import dev.blivet.daemon.launch.FileId;
import dev.blivet.daemon.launch.OutputFiles;
import dev.blivet.daemon.launch.LaunchCancel;
import dev.blivet.daemon.ledger.AdoptedProcess;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One job's mutable record. Only the supervisor's loop thread touches it (docs/architecture.md, Rule 3),
 * so it has no locks; everything leaves the loop as a {@link JobSnapshot}.
 */
final class Job {
    final String name;
    final int owner;
    final JobLifecycle lifecycle;
    /** "jobs-dir" for jobs loaded from the jobs directory, else "client". */
    String source;
    JobSpec spec;
    ResolvedJob resolved;

    /** Bumped at each launch, so late events of an earlier run are recognised and dropped. */
    long run;
    Integer pid;
    /** The pid of a job still starting, for clients only: nothing signals by it (a stop cancels the launch). */
    Integer startingPid;
    /** The process group of the latest run; kept after its exit to find what is left of it (no cgroup). */
    Integer pgid;
    /** The main pid of the latest run, for its pidfile's removal after the exit (never signalled). */
    Integer startedPid;
    /** The main process exited; the exit counts once the rest of the job is gone (kill_mode "all", or a stop). */
    boolean awaitingLeftovers;
    /** The launch waits until the processes of the previous run are gone. */
    boolean clearingLeftovers;
    /** The process of this run when a new blivetd re-adopted it: signalled through its pidfd, never by number. */
    AdoptedProcess adopted;
    Instant startedAt;
    Instant readyAt;
    /** The pidfile this run's helper wrote: only that very file is removed after the exit. */
    FileId pidfileId;
    /** The files the latest run's stdout and stderr were opened as: `logs` reads only those. */
    OutputFiles output = OutputFiles.NONE;
    Instant exitedAt;
    ExitStatus lastExit;
    String lastError;
    /** Cuts the current launch short when a stop comes while the job is starting. */
    LaunchCancel launchCancel;
    /** Launches handed to the launcher whose result the loop has not handled yet (0 or 1). */
    int launchesInFlight;
    /** A restart waiting in its owner's queue for the owner's pending starts to drop below the limit. */
    boolean waitingToStart;
    /** The running process's notify channels, drained for its life; null when none runs. */
    RunChannels.Held channels;
    String notifyStatus;
    Timers.Timer restartTimer;
    Timers.Timer killTimer;
    boolean removeWhenStopped;
    /**
     * A jobs-directory job restored from the ledger with nothing running (after a reboot or a clean
     * stop) that its autostart would start: the next read of the jobs directory starts it with the
     * file's spec, or forgets it if its file is gone, rather than run the ledger's copy first.
     */
    boolean startWithJobsDirectory;
    /** Whether blivetd runs this job in its own cgroup (fixed for blivetd's life). */
    boolean contained;
    final List<CompletableFuture<JobSnapshot>> startWaiters = new ArrayList<>();
    final List<CompletableFuture<JobSnapshot>> stopWaiters = new ArrayList<>();

    Job(String name, int owner, JobLifecycle lifecycle) {
        this.name = name;
        this.owner = owner;
        this.lifecycle = lifecycle;
    }

    /** A new spec: its supervision applies from the lifecycle's next event, the rest at the next launch. */
    void setSpec(JobSpec newSpec, ResolvedJob newResolved) {
        spec = newSpec;
        resolved = newResolved;
        lifecycle.update(newResolved.supervision());
    }

    JobState state() {
        return lifecycle.state();
    }

    JobSnapshot snapshot() {
        boolean alive = state().hasProcess();
        String error = lastError != null ? lastError : lifecycle.reason();
        Integer shownPid = pid != null ? pid : state() == JobState.STARTING ? startingPid : null;
        return new JobSnapshot(name, state(), alive ? shownPid : null, alive ? pgid : null, owner, startedAt,
                alive ? readyAt : null, exitedAt, lastExit != null && lastExit.exited() ? lastExit.code() : null,
                lastExit != null && !lastExit.exited() ? lastExit.signal() : null,
                lastExit != null && lastExit.coreDumped() ? Boolean.TRUE : null, lifecycle.restarts(),
                error, notifyStatus, source, contained, contained ? null : JobSnapshot.NOT_CONTAINED);
    }
}
