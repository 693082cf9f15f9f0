package dev.blivet.daemon.supervisor;

import dev.blivet.common.ExitCode;
import dev.blivet.common.KillMode;
import dev.blivet.common.Readiness;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.Signals;
import dev.blivet.common.Supervision;
import dev.blivet.common.protocol.JobState;
import dev.blivet.daemon.Log;
import dev.blivet.daemon.launch.ExitStatus;
import dev.blivet.daemon.launch.LaunchCancel;
import dev.blivet.daemon.launch.LaunchResult;
import dev.blivet.daemon.launch.OutputFiles;
import dev.blivet.daemon.ledger.AdoptedProcess;
import dev.blivet.daemon.ledger.CrashPoints;
import dev.blivet.daemon.proc.ProcStat;
import dev.blivet.daemon.ledger.Recorder;
import dev.blivet.daemon.usage.LimitKills;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Carries out what {@link JobLifecycle} decides: launches, stop signals with their SIGKILL
 * escalation, restart timers; and feeds it the outcomes: launch results, exits. Every outcome
 * comes back as an event on the loop and is checked against the job's current run, so a late
 * result of an earlier run is dropped (and a process it started is killed). Loop thread only.
 */
final class ActionRunner {
    /** Made before it is needed: what failed the record may be the heap. */
    private static final String NOT_RECORDED = "out of resources recording the start in the ledger";

    private final JobTable table;
    private final StartLimits limits;
    private final Notifier notifier;
    private final JobStarter starter;
    private final ProcessControl processes;
    private final RunChannels channels;
    private final Timers timers;
    private final Clock clock;
    private final EventLoop loop;
    private final Log log;
    private final Recorder ledger;

    ActionRunner(JobTable table, StartLimits limits, Notifier notifier, JobStarter starter, ProcessControl processes,
            RunChannels channels, Timers timers, Clock clock, EventLoop loop, Log log, Recorder ledger) {
        this.ledger = ledger;
        this.table = table;
        this.limits = limits;
        this.notifier = notifier;
        this.starter = starter;
        this.processes = processes;
        this.channels = channels;
        this.timers = timers;
        this.clock = clock;
        this.loop = loop;
        this.log = log;
    }

    /** A start request for a known job, on behalf of {@code uid}. */
    CompletableFuture<JobSnapshot> start(Job job, int uid, boolean wait) {
        if (job.resolved == null) {
            throw new Refused(new Refusal.StartFailed(ExitCode.NO_SPEC, "job " + job.name + " has no usable spec: "
                    + job.lifecycle.reason() + " (blivetctl remove " + job.name + ", then start it again)", null));
        }
        if (job.state() == JobState.STOPPING) {
            throw new Refused(new Refusal.Conflict(job.name, job.state(), Refusal.Conflict.Kind.STILL_STOPPING));
        }
        boolean alreadyUp = job.state().hasProcess();
        if (!alreadyUp) {
            limits.checkStartLimit(uid);
        }
        act(job, job.lifecycle.start());
        if (!wait || job.state() == JobState.RUNNING || (alreadyUp && job.state() != JobState.STARTING)) {
            return CompletableFuture.completedFuture(table.snapshot(job));
        }
        CompletableFuture<JobSnapshot> ready = new CompletableFuture<>();
        job.startWaiters.add(ready);
        return ready;
    }

    /** Stops a job; answers once nothing of it runs. */
    CompletableFuture<JobSnapshot> stop(Job job, Integer signal, Duration timeout) {
        boolean wasStarting = job.state() == JobState.STARTING;
        act(job, job.lifecycle.stop(), signal, timeout);
        if (wasStarting && job.launchCancel != null) {
            job.launchCancel.cancel(); // the launch kills what it started and reports back
        }
        if (wasStarting && job.waitingToStart) {
            limits.unqueue(job);
            long run = job.run;
            loop.post(() -> launched(job, run, new LaunchResult.Failed(ExitCode.JOB_EXITED, "start cancelled: job "
                    + job.name + " was stopped while it waited for its turn to start", null)));
        }
        if (!job.state().hasProcess() && hasLeftovers(job)) {
            return stopLeftovers(job, signal, timeout);
        }
        if (job.state() != JobState.STOPPING) {
            return CompletableFuture.completedFuture(table.snapshot(job));
        }
        CompletableFuture<JobSnapshot> stopped = new CompletableFuture<>();
        job.stopWaiters.add(stopped);
        return stopped;
    }

    /** The job's cgroup directory (empty without cgroups, or before its first start). */
    java.util.Optional<java.nio.file.Path> cgroupDir(Job job) {
        return processes.cgroupDir(job.name);
    }

    /** Whether processes of the job's last run outlived its main process (kill_mode "main"). */
    boolean hasLeftovers(Job job) {
        return processes.populated(processes(job));
    }

    /**
     * A stop of a job that is down but left processes behind: they are stopped as the job would
     * be, and the answer comes once none is left.
     */
    private CompletableFuture<JobSnapshot> stopLeftovers(Job job, Integer signal, Duration timeout) {
        int sig = signal != null ? signal : job.resolved.supervision().stopSignal();
        Duration grace = timeout != null ? timeout : job.resolved.supervision().stopTimeout();
        JobProcesses rest = processes(job);
        long run = job.run;
        log.info("job " + job.name + ": stopping what its last run left behind with " + Signals.name(sig)
                + ", SIGKILL after " + grace.toMillis() + " ms");
        processes.signalAll(rest, sig);
        Timers.Timer kill = timers.schedule(grace, () -> loop.post(() -> processes.killAll(rest)));
        CompletableFuture<JobSnapshot> stopped = new CompletableFuture<>();
        processes.whenEmpty(rest, () -> loop.post(() -> {
            kill.cancel();
            if (job.run == run && table.holds(job) && !job.state().hasProcess()) {
                processes.release(job.name);
            }
            stopped.complete(table.snapshot(job));
        }));
        return stopped;
    }

    /** Sends a signal to the job's main process, or to its whole process group too. */
    JobSnapshot signal(Job job, int signal, boolean group) {
        if (job.pgid == null || !job.state().hasProcess()) {
            throw new Refused(new Refusal.Conflict(job.name, job.state(), Refusal.Conflict.Kind.NO_PROCESS));
        }
        deliver(job, signal, group);
        return table.snapshot(job);
    }

    /** Forgets a job with no process; whoever waits for it learns that it is gone. */
    JobSnapshot remove(Job job) {
        if (job.state().hasProcess()) {
            throw new Refused(new Refusal.Conflict(job.name, job.state(), Refusal.Conflict.Kind.STILL_RUNNING));
        }
        if (processes.populated(processes(job))) {
            // Leftovers are the owner's to stop: left behind, they would be cleared by (and their
            // cgroup handed to) whoever next starts a job of this name, with that job's signals.
            throw new Refused(new Refusal.Conflict(job.name, job.state(), Refusal.Conflict.Kind.LEFTOVERS));
        }
        act(job, job.lifecycle.stop()); // cancels a pending restart
        JobSnapshot last = table.snapshot(job);
        forget(job);
        return last;
    }

    void act(Job job, JobLifecycle.Action action) {
        act(job, action, null, null);
    }

    private void act(Job job, JobLifecycle.Action action, Integer stopSignal, Duration stopTimeout) {
        if (action instanceof JobLifecycle.Action.Launch) {
            launch(job);
        } else if (action instanceof JobLifecycle.Action.SignalStop) {
            signalStop(job, stopSignal, stopTimeout);
        } else if (action instanceof JobLifecycle.Action.ScheduleRestart restart) {
            scheduleRestart(job, restart.delay());
        } else if (action instanceof JobLifecycle.Action.CancelRestart) {
            cancel(job.restartTimer);
            ledger.ended(job.name); // no restart pending any more: the next JVM must not make one
        }
        notifier.publish(job);
    }

    private void launch(Job job) {
        cancel(job.restartTimer);
        JobProcesses previous = processes(job);
        long run = ++job.run;
        job.startedAt = clock.instant();
        job.pid = null; // nothing may signal the previous run's numbers
        job.adopted = null;
        job.startingPid = null;
        job.pgid = null;
        job.readyAt = null;
        job.pidfileId = null;
        job.lastError = null;
        job.notifyStatus = null;
        job.launchCancel = null;
        try {
            // Durable before any reply shows the job (docs/architecture.md, "Custody: the ledger").
            ledger.accepted(job.name, job.owner, job.source, job.spec);
        } catch (IOException e) {
            notLaunched(job, run, "cannot record job " + job.name + " in the ledger: " + e.getMessage());
            return;
        }
        // A start that must first clear leftovers or wait its turn at the start limit is answered
        // "starting" before any record of it exists: the owner's intent (up) is recorded now,
        // as it is the only record of the start until dispatch (docs/architecture.md, "Custody: the ledger").
        if (processes.populated(previous)) {
            ledger.flush(); // no spawn to overlap: it is answered "starting" now
            ledger.desired(job.name, true);
            clearLeftovers(job, run, previous);
            return;
        }
        admit(job, run);
    }

    private void admit(Job job, long run) {
        if (limits.queueIfAtLimit(job)) {
            ledger.flush();
            ledger.desired(job.name, true);
        } else {
            dispatch(job, run, job.resolved);
        }
    }

    /**
     * A start whose job still has processes of an earlier run (kill_mode "main", or a leftover
     * blivetd found): they are stopped as a stop would (stop_signal, SIGKILL after stop_timeout)
     * and the launch goes on once none is left, so they never hold a port or a lock the new run needs.
     */
    private void clearLeftovers(Job job, long run, JobProcesses previous) {
        Supervision supervision = job.resolved.supervision();
        log.warn("job " + job.name + ": processes of its previous run are still alive; stopping them ("
                + Signals.name(supervision.stopSignal()) + ", SIGKILL after " + supervision.stopTimeout().toMillis()
                + " ms) before it starts");
        job.clearingLeftovers = true;
        processes.signalAll(previous, supervision.stopSignal());
        cancel(job.killTimer);
        job.killTimer = timers.schedule(supervision.stopTimeout(), () -> loop.post(() -> {
            if (job.run == run && job.clearingLeftovers) {
                log.warn("job " + job.name + ": leftovers still alive, killing them");
                processes.killAll(previous);
            }
        }));
        processes.whenEmpty(previous, () -> loop.post(() -> leftoversCleared(job, run)));
    }

    private void leftoversCleared(Job job, long run) {
        if (job.run != run || !job.clearingLeftovers) {
            return;
        }
        job.clearingLeftovers = false;
        cancel(job.killTimer);
        if (!table.holds(job)) {
            return;
        }
        if (job.state() == JobState.STARTING) {
            admit(job, run);
        } else {
            launched(job, run, new LaunchResult.Failed(ExitCode.JOB_EXITED, "start cancelled: job " + job.name
                    + " was stopped while the processes of its previous run were being stopped", null));
        }
    }

    /** What holds the job's processes now: its cgroup (by name), its latest process group, its main pid. */
    private static JobProcesses processes(Job job) {
        return new JobProcesses(job.name, job.pgid, job.pid);
    }

    /** A launch that never reached the starter: the loop hears of it as of any failed start. */
    private void notLaunched(Job job, long run, String why) {
        job.launchesInFlight++;
        loop.post(() -> {
            job.launchesInFlight--;
            launched(job, run, new LaunchResult.Failed(ExitCode.OS_ERROR, "os error: " + why, null));
        });
    }

    /**
     * Hands the job to the starter, then records the start: the launch thread prepares the spawn
     * meanwhile and spawns nothing before the record is written (a crash now leaves "starting,
     * no pid" and no process: docs/architecture.md, "Custody: the ledger"). Its result comes
     * back to the loop as an event.
     */
    private void dispatch(Job job, long run, ResolvedJob resolved) {
        job.launchesInFlight++;
        LaunchCancel cancel = LaunchCancel.untilRecorded();
        job.launchCancel = cancel;
        CompletableFuture<LaunchResult> launch;
        try {
            // On the launch thread, which waits for the exec meanwhile: the /proc read stays off the loop.
            cancel.onForked(pid -> {
                ProcStat process = ProcStat.of(pid);
                loop.post(() -> forked(job, run, pid, process));
            });
            launch = starter.launch(resolved, cancel);
        } catch (RuntimeException | LinkageError | OutOfMemoryError | StackOverflowError e) {
            // Whatever happens, the loop must hear back, or the job would stay STARTING forever.
            ExitCode code = e instanceof VirtualMachineError ? ExitCode.OS_ERROR : ExitCode.SOFTWARE;
            launch = CompletableFuture.completedFuture(new LaunchResult.Failed(code, (code == ExitCode.OS_ERROR
                    ? "os error: out of resources starting job " + job.name + ": " : "internal error: ") + e, null));
        }
        // First: whatever fails below, the loop hears of the launch's end.
        launch.whenComplete((result, error) -> loop.post(() -> {
            job.launchesInFlight--;
            launched(job, run, result != null ? result
                    : new LaunchResult.Failed(ExitCode.SOFTWARE, "internal error: " + error, null));
            limits.admit(job.owner, waiting -> dispatch(waiting, waiting.run, waiting.resolved));
        }));
        try {
            ledger.starting(job.name, run);
            cancel.recorded();
        } catch (IOException | RuntimeException | LinkageError | OutOfMemoryError | StackOverflowError e) {
            cancel.notRecorded(e instanceof VirtualMachineError ? NOT_RECORDED : "cannot record the start of job "
                    + job.name + " in the ledger: " + (e instanceof IOException ? e.getMessage() : e.toString()));
            ledger.flush();
            return;
        }
        ledger.reached(CrashPoints.AFTER_START_RECORDED);
        // While the helper is spawned: a new job's record made durable (before any reply shows
        // the job: later loop tasks), the unlink of a stopped job's marker (its crash window:
        // JobLedger#desired) and the log line no longer delay the spawn. Each in a try of its
        // own: the launch goes on and its end is heard whatever they throw.
        try {
            ledger.flush();
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            // a warning's worth at most, and the log may be what failed
        }
        try {
            ledger.desired(job.name, true);
            log.info("job " + job.name + ": starting " + resolved.argv());
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            // The launch goes on and its end is heard: neither is worth failing a start for.
        }
    }

    /** The helper forked the job: status shows its pid while it starts (no event: its state is the same). */
    private void forked(Job job, long run, int pid, ProcStat process) {
        if (run != job.run || !table.holds(job)) {
            return;
        }
        ledger.forked(job.name, run, process); // also while a stop waits for the launch: a crash must not lose the pid
        if (job.state() == JobState.STARTING) {
            job.startingPid = pid;
            table.snapshot(job); // publishes it for status
        }
    }

    private void launched(Job job, long run, LaunchResult result) {
        if (run == job.run) {
            job.launchCancel = null;
        }
        if (!table.holds(job) || run != job.run) {
            if (result instanceof LaunchResult.Started started) {
                // Its job was replaced meanwhile. Not the cgroup: a job of the same name may run in it now.
                processes.signalGroup(started.pgid(), started.pid(), Signals.SIGKILL);
                channels.discard(started);
            }
            return;
        }
        Instant now = clock.instant();
        if (result instanceof LaunchResult.Started started) {
            job.pid = started.pid();
            job.startedPid = started.pid();
            job.pgid = started.pgid();
            job.readyAt = started.readyAt();
            job.pidfileId = started.pidfile();
            job.output = started.output();
            RunChannels.Held held = channels.hold(started, () -> loop.post(() -> statusChanged(job, run)));
            job.channels = held;
            job.notifyStatus = held.status();
            started.exit().whenComplete((exit, error) -> loop.post(() -> exited(job, run, exit)));
            log.info("job " + job.name + ": running, pid " + job.pid);
            if (job.resolved.readiness() == Readiness.FORKING) {
                // The program's daemon, not the process the helper forked.
                ledger.forked(job.name, run, ProcStat.of(job.pid));
            }
            ledger.running(job.name);
            act(job, job.lifecycle.ready(now));
            job.startWaiters.forEach(waiter -> waiter.complete(table.snapshot(job)));
        } else if (result instanceof LaunchResult.Failed failed) {
            if (failed.output() != OutputFiles.NONE) {
                job.output = failed.output(); // what it wrote is often why it failed
            }
            job.lastError = failed.message();
            job.lastExit = failed.jobExit();
            job.exitedAt = failed.jobExit() != null ? now : job.exitedAt;
            log.warn("job " + job.name + ": " + failed.message());
            act(job, job.lifecycle.launchFailed(now, failed.message()));
            recordDown(job);
            Refused error = new Refused(new Refusal.StartFailed(failed.code(), failed.message(),
                    failed.jobExit() == null ? null : failed.jobExit().describe()));
            job.startWaiters.forEach(waiter -> waiter.completeExceptionally(error));
            stoppedIfDown(job);
            releaseAfterFailedStart(job, run);
        }
        job.startWaiters.clear();
    }

    /**
     * The launcher killed the helper and the job's process group; what left the group (setsid)
     * is still in the job's cgroup: a failed start leaves nothing running, so it goes too.
     */
    private void releaseAfterFailedStart(Job job, long run) {
        JobProcesses rest = processes(job);
        if (processes.populated(rest)) {
            log.warn("job " + job.name + ": killing what its failed start left running");
            processes.killAll(rest);
        }
        processes.whenEmpty(rest, () -> loop.post(() -> {
            if (job.run == run && table.holds(job) && !job.state().hasProcess()) {
                processes.release(job.name);
            }
        }));
    }

    /** The job sent sd-notify datagrams: its STATUS= is part of what subscribers see. */
    private void statusChanged(Job job, long run) {
        if (job.run == run && job.channels != null && !Objects.equals(job.notifyStatus, job.channels.status())) {
            job.notifyStatus = job.channels.status();
            notifier.publish(job);
        }
    }

    private void exited(Job job, long run, ExitStatus exit) {
        if (run != job.run || exit == null) {
            return;
        }
        ended(job, run, exit);
    }

    /**
     * Re-adopts a process an earlier blivetd started: the job is RUNNING with the same pid, and
     * its end comes from the adoption watcher (docs/architecture.md, "Custody").
     */
    void adopt(Job job, AdoptedProcess process, long attempt) {
        job.run = attempt;
        job.adopted = process;
        job.pid = process.pid();
        job.pgid = process.pgid();
        job.startedAt = clock.instant();
        job.readyAt = job.startedAt;
        long run = job.run;
        process.ended().whenComplete((how, error) -> loop.post(() -> {
            if (run == job.run && table.holds(job)) {
                ended(job, run, how == null ? null : how.exit());
            }
        }));
        log.info("job " + job.name + ": re-adopted pid " + job.pid);
        act(job, job.lifecycle.adopted(job.startedAt));
    }

    /**
     * A process an earlier blivetd started ended while no blivetd watched it: its end is taken as
     * if seen, so its restart policy applies.
     */
    void endedUnseen(Job job, int pid, long attempt, ExitStatus exit) {
        job.run = attempt;
        job.pid = pid;
        act(job, job.lifecycle.adopted(clock.instant()));
        ended(job, attempt, exit);
    }

    /** The run's main process ended: {@code exit} is how, or null when no one could tell. */
    private void ended(Job job, long run, ExitStatus exit) {
        job.exitedAt = clock.instant();
        job.lastExit = exit;
        if (exit != null) {
            // A SIGKILL from the kernel's OOM killer looks like any other: the cgroup tells them apart.
            cgroupDir(job).flatMap(dir -> LimitKills.reason(dir, exit)).ifPresent(why -> job.lastError = why);
        }
        log.info("job " + job.name + ": pid " + job.pid + " ended with "
                + (exit != null ? exit.describe() : "an exit status no one could tell (blivetd was not its parent)"));
        Integer mainPid = job.pid;
        job.pid = null; // reaped: the number may already be another job's
        job.adopted = null;
        JobProcesses rest = processes(job);
        boolean stopping = job.state() == JobState.STOPPING;
        if ((stopping || job.resolved.supervision().killMode() == KillMode.ALL) && processes.populated(rest)) {
            // The exit is final, and a restart may come, only once the rest of the job is gone too.
            job.awaitingLeftovers = true;
            if (!stopping) {
                Supervision supervision = job.resolved.supervision();
                log.info("job " + job.name + ": other processes remain after pid " + mainPid + " ended; stopping them with "
                        + Signals.name(supervision.stopSignal()) + ", SIGKILL after " + supervision.stopTimeout().toMillis()
                        + " ms");
                processes.signalAll(rest, supervision.stopSignal());
                armKill(job, supervision.stopTimeout());
            }
            processes.whenEmpty(rest, () -> loop.post(() -> {
                if (job.run == run && job.awaitingLeftovers) {
                    job.awaitingLeftovers = false;
                    finishExit(job, exit);
                }
            }));
            return;
        }
        finishExit(job, exit);
    }

    /** The main process and (unless kill_mode keeps them) every other process of the run are gone. */
    private void finishExit(Job job, ExitStatus exit) {
        cancel(job.killTimer);
        if (job.channels != null) {
            job.notifyStatus = job.channels.status();
            job.channels.release();
            job.channels = null;
        }
        if (job.pidfileId != null) {
            // A re-adopted run's pidfile was written by another JVM, which alone knew which file
            // it was: it stays, and the next start replaces it.
            channels.removePidfile(job.resolved.pidfile(), job.pidfileId, job.startedPid);
        }
        // job.pgid stays: it finds leftovers of this run (kill_mode "main") at the next start
        if (!processes.populated(processes(job))) {
            processes.release(job.name);
        }
        act(job, exit != null ? job.lifecycle.exited(exit, job.exitedAt) : job.lifecycle.endedUnknown(job.exitedAt));
        recordDown(job);
        stoppedIfDown(job);
    }

    /** No process of the job runs: the ledger keeps a pending restart, else no run at all. */
    private void recordDown(Job job) {
        if (job.state() == JobState.BACKOFF) {
            ledger.backoff(job.name, job.run);
        } else if (job.state() == JobState.EXITED || job.state() == JobState.FAILED) {
            ledger.over(job.name, job.run, job.lastExit);
        } else {
            ledger.ended(job.name);
        }
    }

    /** Answers stop requests and carries out a pending removal once nothing runs. */
    private void stoppedIfDown(Job job) {
        if (job.state().hasProcess()) {
            return;
        }
        job.stopWaiters.forEach(waiter -> waiter.complete(table.snapshot(job)));
        job.stopWaiters.clear();
        if (job.removeWhenStopped && table.holds(job)) {
            forget(job);
        }
    }

    void forget(Job job) {
        processes.release(job.name); // only if empty: kill_mode "main" leftovers keep it
        ledger.removed(job.name);
        table.remove(job);
        notifier.forgotten(job);
    }

    private void signalStop(Job job, Integer signal, Duration timeout) {
        int sig = signal != null ? signal : job.resolved.supervision().stopSignal();
        Duration grace = timeout != null ? timeout : job.resolved.supervision().stopTimeout();
        log.info("job " + job.name + ": stopping with " + Signals.name(sig) + ", SIGKILL after " + grace.toMillis() + " ms");
        ledger.stopping(job.name); // a crash from here on: the next JVM finishes the stop
        signalEvery(job, sig);
        ledger.reached(CrashPoints.DURING_STOP);
        armKill(job, grace);
    }

    /** SIGKILL to every process of the job after {@code grace}, if this run is still stopping by then. */
    private void armKill(Job job, Duration grace) {
        long run = job.run;
        cancel(job.killTimer);
        job.killTimer = timers.schedule(grace, () -> loop.post(() -> {
            if (job.run == run && (job.state() == JobState.STOPPING || job.awaitingLeftovers)) {
                log.warn("job " + job.name + ": still alive after " + grace.toMillis() + " ms, sending SIGKILL");
                if (job.adopted != null && cgroupDir(job).isEmpty()) {
                    signalEvery(job, Signals.SIGKILL);
                } else {
                    processes.killAll(processes(job));
                }
            }
        }));
    }

    /**
     * {@code signal} to every process of the job: its cgroup's members, or without cgroups its
     * process group. A re-adopted job without a cgroup is not our child, so no unreaped child
     * vouches for its group: its pidfd does.
     */
    private void signalEvery(Job job, int signal) {
        if (job.adopted != null && cgroupDir(job).isEmpty()) {
            job.adopted.signalGroup(signal);
            job.adopted.signal(signal);
            return;
        }
        processes.signalAll(processes(job), signal);
    }

    /**
     * To the main process, and with {@code group} to the job's process group (the session the
     * helper created, holding whatever the job forked), only while they are provably the job's
     * (see {@link ProcessControl}). Late or stale numbers reach nobody.
     */
    private void deliver(Job job, int signal, boolean group) {
        if (job.pid == null) {
            return;
        }
        int pid = job.pid;
        if (job.adopted != null) {
            // Not our child: the Reaper cannot vouch for the number, the pidfd can.
            if (group) {
                job.adopted.signalGroup(signal);
            }
            job.adopted.signal(signal);
            return;
        }
        if (group && job.pgid != null) {
            processes.signalGroup(job.pgid, pid, signal);
        }
        processes.signalProcess(pid, signal); // also when it left the group with setsid()
    }

    private void scheduleRestart(Job job, Duration delay) {
        long run = job.run;
        log.info("job " + job.name + ": restarting in " + delay.toMillis() + " ms");
        cancel(job.restartTimer);
        job.restartTimer = timers.schedule(delay, () -> loop.post(() -> {
            if (job.run == run && table.holds(job)) {
                act(job, job.lifecycle.restartDue());
            }
        }));
    }

    private static void cancel(Timers.Timer timer) {
        if (timer != null) {
            timer.cancel();
        }
    }
}
