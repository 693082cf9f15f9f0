package dev.blivet.daemon.supervisor;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.JobSpec;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.Signals;
import dev.blivet.common.protocol.ErrorCode;
import dev.blivet.daemon.Log;
import dev.blivet.daemon.launch.ExitStatus;
import dev.blivet.daemon.launch.LaunchResult;
import dev.blivet.daemon.launch.Launcher;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.launch.DrainedPipe;
import dev.blivet.daemon.launch.LaunchCancel;
import dev.blivet.daemon.launch.NotifyWatcher;
import dev.blivet.daemon.launch.ProcessGroups;
import dev.blivet.daemon.launch.Reaper;
import dev.blivet.daemon.launch.SdNotifySocket;
import dev.blivet.daemon.launch.Pidfiles;
import dev.blivet.daemon.launch.TrustedPath;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The one owner of all job state (docs/architecture.md, Rule 3): a single loop thread runs every
 * request, launch result, exit and timer as a task from its inbox; nothing else touches a
 * {@link Job}. Launches run on the launcher's one loop thread and post their result back; the
 * reaper's exits and the timers post too. An idle supervisor waits on its inbox: no polling.
 *
 * <p>Per-uid {@link Limits} keep one user from crowding out another: a non-root uid may hold
 * only so many jobs and so many pending starts. A start request past the pending-start limit is
 * refused; a restart (by restart policy) past it waits in that user's queue, at most one entry
 * per job, until one of the user's own starts ends: refusing it would leave a job down for
 * good after a burst, and letting it through would let a user exceed the limit by making its
 * jobs crash. Nobody else's start or restart ever waits for it.
 *
 * <p>Authorization is by uid: root (0) sees and acts on every job, any other uid only on the jobs
 * it owns.
 */
public final class Supervisor implements AutoCloseable {
    private static final int SIGKILL = 9;

    /** Receives state changes; returns false to unsubscribe (e.g. its client is gone or too slow). */
    public interface Subscriber {
        int uid();

        boolean offer(JobSnapshot change);
    }

    /** What a reload did, by job name. */
    public record ReloadReport(List<String> added, List<String> changed, List<String> removed,
            Map<String, String> errors) {
    }

    /** Waits on one job object, not a name: a name can pass to another user's job meanwhile. */
    private record StateWaiter(Job job, Set<JobState> states, CompletableFuture<JobSnapshot> reply) {
    }

    private final int daemonUid;
    private final Reaper reaper;
    private final ProcessGroups groups;
    private final Launcher launcher;
    private final NativeOs os;
    private final TrustedPath paths;
    private final Log log;
    private final Clock clock;
    private final BlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final Thread loop;
    private final ScheduledExecutorService timers;
    private final Limits limits;
    /** Restarts of a user at its pending-start limit, in order; loop thread only. */
    private final Map<Integer, java.util.ArrayDeque<Job>> waitingStarts = new java.util.HashMap<>();
    private final Map<String, Job> jobs = new TreeMap<>();
    private final PublishedJobs published = new PublishedJobs();
    private final List<StateWaiter> stateWaiters = new ArrayList<>();
    private final List<Subscriber> subscribers = new ArrayList<>();
    private final NotifyWatcher notifyWatcher;
    private volatile boolean running = true;

    /**
     * @param daemonUid blivetd's own uid: the owner of the jobs from the jobs directory
     */
    public Supervisor(Launcher launcher, Reaper reaper, NativeOs os, Log log, Clock clock, int daemonUid) {
        this(launcher, reaper, os, log, clock, daemonUid, Limits.defaults());
    }

    /**
     * @param daemonUid blivetd's own uid: the owner of the jobs from the jobs directory
     * @param limits what each non-root uid may hold
     */
    public Supervisor(Launcher launcher, Reaper reaper, NativeOs os, Log log, Clock clock, int daemonUid, Limits limits) {
        this.daemonUid = daemonUid;
        this.limits = limits;
        this.reaper = reaper;
        this.groups = new ProcessGroups(os, reaper);
        this.launcher = launcher;
        this.os = os;
        this.paths = TrustedPath.of(os);
        this.log = log;
        this.clock = clock;
        ScheduledThreadPoolExecutor timerPool = new ScheduledThreadPoolExecutor(1, daemonThreads("blivet-timer"));
        timerPool.setRemoveOnCancelPolicy(true); // a cancelled kill timer must not linger for 10 s
        // Its one thread is made now: made lazily, the first stop timer could meet the task limit.
        timerPool.prestartAllCoreThreads();
        this.timers = timerPool;
        this.notifyWatcher = new NotifyWatcher(os, socket -> post(() -> notifyStatusChanged(socket)));
        this.loop = new Thread(this::runLoop, "blivet-supervisor");
        loop.start();
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String name) {
        return task -> {
            Thread t = new Thread(task, name);
            t.setDaemon(true);
            return t;
        };
    }

    private void runLoop() {
        while (running || !inbox.isEmpty()) {
            try {
                Runnable task = inbox.poll(1, TimeUnit.DAYS);
                if (task != null) {
                    task.run();
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | LinkageError | OutOfMemoryError | StackOverflowError e) {
                // One bad event, or an allocation that failed, must not take the daemon down with it.
                log.error("supervisor: " + e);
            }
        }
    }

    /** Runs {@code body} on the loop; its result (or RequestException) completes the future. */
    private <T> CompletableFuture<T> call(Supplier<CompletableFuture<T>> body) {
        CompletableFuture<T> reply = new CompletableFuture<>();
        if (!running) {
            reply.completeExceptionally(new RequestException(ErrorCode.SHUTTING_DOWN, "blivetd is shutting down"));
            return reply;
        }
        inbox.add(() -> {
            try {
                body.get().whenComplete((value, error) -> {
                    if (error != null) {
                        reply.completeExceptionally(error);
                    } else {
                        reply.complete(value);
                    }
                });
            } catch (RuntimeException e) {
                reply.completeExceptionally(e);
            } catch (OutOfMemoryError | StackOverflowError e) {
                reply.completeExceptionally(new RequestException(ErrorCode.INTERNAL, "internal error: blivetd ran out of"
                        + " resources for this request (" + e + "); nothing was changed by it, try again"));
            }
        });
        return reply;
    }

    private void post(Runnable event) {
        inbox.add(event);
    }

    // ---- requests ----

    /**
     * Starts a job from a spec a client sent (or the jobs directory loaded), already resolved on
     * behalf of {@code uid}.
     *
     * @param wait answer once the job is ready (or its start failed) rather than at once
     */
    public CompletableFuture<JobSnapshot> start(JobSpec spec, ResolvedJob resolved, int uid, boolean wait) {
        return call(() -> {
            Job job = jobs.get(spec.name());
            if (job != null) {
                if (!visible(job, uid)) {
                    // Names are one name space for all users, so that the name is taken cannot be
                    // hidden; whose job holds it, and in what state, can.
                    throw new RequestException(ErrorCode.CONFLICT, "job name " + spec.name()
                            + " is taken; choose another name");
                }
                if (job.owner != uid && !job.spec.equals(spec)) {
                    // The new spec was resolved for uid, not for the owner, who could then act on it.
                    throw new RequestException(ErrorCode.CONFLICT, "job " + spec.name() + " belongs to uid " + job.owner
                            + ": start it by name, or remove it before giving it a new spec");
                }
                if (job.state().hasProcess()) {
                    if (job.spec.equals(spec)) {
                        return CompletableFuture.completedFuture(snapshot(job)); // already running: nothing to do
                    }
                    throw new RequestException(ErrorCode.CONFLICT, "job " + spec.name() + " is " + job.state().jsonName()
                            + " with a different spec: stop it first");
                }
            } else {
                checkJobLimit(uid);
                checkStartLimit(uid); // before the job exists, so a refusal leaves nothing behind
                job = new Job(spec.name(), uid, new JobLifecycle(resolved.supervision(), ThreadLocalRandom.current()::nextDouble));
                job.source = "client";
                jobs.put(job.name, job);
            }
            if (!job.state().hasProcess()) {
                checkStartLimit(uid); // before the new spec replaces the old one
            }
            if (job.owner == uid) {
                setSpec(job, spec, resolved);
            }
            // Else root sent the owner's very spec: the job starts as the owner resolved it. Root's
            // resolution would run it as root while its owner may still restart it at will.
            return startJob(job, uid, wait);
        });
    }

    /** Starts a job blivetd already knows. */
    public CompletableFuture<JobSnapshot> start(String name, int uid, boolean wait) {
        return call(() -> {
            Job job = find(name, uid);
            return startJob(job, uid, wait);
        });
    }

    private CompletableFuture<JobSnapshot> startJob(Job job, int uid, boolean wait) {
        if (job.state() == JobState.STOPPING) {
            throw new RequestException(ErrorCode.CONFLICT, "job " + job.name + " is stopping: wait for it to stop first");
        }
        if (!job.state().hasProcess()) {
            checkStartLimit(uid);
        }
        boolean alreadyUp = job.state().hasProcess();
        act(job, job.lifecycle.start());
        if (!wait || job.state() == JobState.RUNNING || (alreadyUp && job.state() != JobState.STARTING)) {
            return CompletableFuture.completedFuture(snapshot(job));
        }
        CompletableFuture<JobSnapshot> ready = new CompletableFuture<>();
        job.startWaiters.add(ready);
        return ready;
    }

    /**
     * Stops a job: its stop signal (or {@code signal}) to the process group, SIGKILL after its
     * stop timeout (or {@code timeout}); answers once the job has been reaped.
     */
    public CompletableFuture<JobSnapshot> stop(String name, int uid, Integer signal, Duration timeout) {
        return call(() -> stopJob(find(name, uid), signal, timeout));
    }

    private CompletableFuture<JobSnapshot> stopJob(Job job, Integer signal, Duration timeout) {
        boolean wasStarting = job.state() == JobState.STARTING;
        JobLifecycle.Action action = job.lifecycle.stop();
        act(job, action, signal, timeout);
        if (wasStarting && job.launchCancel != null) {
            job.launchCancel.cancel(); // the launch kills what it started and reports back
        }
        if (wasStarting && job.waitingToStart) {
            unqueue(job);
            long run = job.run;
            post(() -> launched(job, run, new LaunchResult.Failed(dev.blivet.common.ExitCode.JOB_EXITED, "start cancelled: job "
                    + job.name + " was stopped while it waited for its turn to start", null)));
        }
        if (job.state() != JobState.STOPPING) {
            return CompletableFuture.completedFuture(snapshot(job));
        }
        CompletableFuture<JobSnapshot> stopped = new CompletableFuture<>();
        job.stopWaiters.add(stopped);
        return stopped;
    }

    /** Stops the job if it runs, then starts it and waits for it to be ready. */
    public CompletableFuture<JobSnapshot> restart(String name, int uid) {
        return stop(name, uid, null, null).thenCompose(stopped -> start(name, uid, true));
    }

    /** Sends a signal to the job's main process, or to its whole process group. */
    public CompletableFuture<JobSnapshot> signal(String name, int uid, int signal, boolean group) {
        return call(() -> {
            Job job = find(name, uid);
            if (job.pgid == null || !job.state().hasProcess()) {
                throw new RequestException(ErrorCode.CONFLICT, "job " + name + " is " + job.state().jsonName()
                        + ": there is no process to signal");
            }
            deliver(job, signal, group);
            return CompletableFuture.completedFuture(snapshot(job));
        });
    }

    public CompletableFuture<JobSnapshot> status(String name, int uid) {
        // The published snapshot answers at once. A job it does not know, or another user's,
        // goes to the loop, which says not_found with the authority of the jobs themselves (the
        // same answer for both: another user's job does not exist to this client).
        Optional<JobSnapshot> shown = published.get(name);
        if (shown.isPresent() && (uid == 0 || shown.get().owner() == uid)) {
            return CompletableFuture.completedFuture(shown.get());
        }
        return call(() -> CompletableFuture.completedFuture(snapshot(find(name, uid))));
    }

    /** Every job the uid may see, by name. */
    public CompletableFuture<List<JobSnapshot>> list(int uid) {
        return call(() -> CompletableFuture.completedFuture(jobs.values().stream()
                .filter(job -> uid == 0 || job.owner == uid).map(this::snapshot).toList()));
    }

    /** A job sent sd-notify datagrams: its STATUS= is part of what subscribers see. */
    private void notifyStatusChanged(NotifyWatcher.Source source) {
        if (!(source instanceof SdNotifySocket socket)) {
            return;
        }
        for (Job job : jobs.values()) {
            if (job.notifySocket == socket && !java.util.Objects.equals(job.notifyStatus, socket.status())) {
                job.notifyStatus = socket.status();
                publish(job);
            }
        }
    }

    /** Forgets a job that is not running. */
    public CompletableFuture<JobSnapshot> remove(String name, int uid) {
        return call(() -> {
            Job job = find(name, uid);
            if (job.state().hasProcess()) {
                throw new RequestException(ErrorCode.CONFLICT, "job " + name + " is " + job.state().jsonName()
                        + ": stop it before removing it");
            }
            act(job, job.lifecycle.stop()); // cancels a pending restart
            JobSnapshot last = snapshot(job);
            forget(job);
            return CompletableFuture.completedFuture(last);
        });
    }

    /** Answers once the job is in one of {@code states}, or fails with timeout. */
    public CompletableFuture<JobSnapshot> waitFor(String name, int uid, Set<JobState> states, Duration timeout) {
        return call(() -> {
            Job job = find(name, uid);
            if (states.contains(job.state())) {
                return CompletableFuture.completedFuture(snapshot(job));
            }
            CompletableFuture<JobSnapshot> reply = new CompletableFuture<>();
            StateWaiter waiter = new StateWaiter(job, Set.copyOf(states), reply);
            stateWaiters.add(waiter);
            timers.schedule(() -> post(() -> {
                if (stateWaiters.remove(waiter)) {
                    reply.completeExceptionally(new RequestException(ErrorCode.TIMEOUT, "job " + name + " did not reach "
                            + states.stream().map(JobState::jsonName).sorted().toList() + " within "
                            + timeout.toMillis() / 1000.0 + " s"));
                }
            }), timeout.toNanos(), TimeUnit.NANOSECONDS);
            return reply;
        });
    }

    /** Streams every later state change the subscriber's uid may see. */
    public CompletableFuture<Void> subscribe(Subscriber subscriber) {
        return call(() -> {
            subscribers.add(subscriber);
            return CompletableFuture.completedFuture(null);
        });
    }

    public void unsubscribe(Subscriber subscriber) {
        post(() -> subscribers.remove(subscriber));
    }

    /** The job's stdout and stderr paths, for the logs op. */
    public CompletableFuture<JobOutput> output(String name, int uid) {
        return call(() -> {
            Job job = find(name, uid);
            return CompletableFuture.completedFuture(new JobOutput(job.resolved, job.owner, job.output));
        });
    }

    /** What `logs` needs of a job: its output paths, its owner, and which files they were opened as. */
    public record JobOutput(ResolvedJob job, int owner, dev.blivet.daemon.launch.OutputFiles files) {
    }

    /**
     * Applies a fresh read of the jobs directory: new jobs are added (and started if autostart),
     * changed specs take effect at their next start, jobs whose file is gone are stopped and
     * removed. Jobs clients started are left alone.
     */
    public CompletableFuture<ReloadReport> applyJobsDirectory(JobsDirectory.Scan scan) {
        return call(() -> {
            List<String> added = new ArrayList<>();
            List<String> changed = new ArrayList<>();
            List<String> removed = new ArrayList<>();
            Map<String, String> errors = new TreeMap<>(scan.errors());
            for (JobsDirectory.Entry entry : scan.jobs().values()) {
                Job job = jobs.get(entry.spec().name());
                if (job != null && !JobsDirectory.SOURCE.equals(job.source)) {
                    errors.put(entry.file().toString(), "job name " + job.name + " is taken by a job uid " + job.owner
                            + " started; skipped (stop and remove that job: blivetctl stop " + job.name
                            + " && blivetctl remove " + job.name + ", then reload)");
                    continue;
                }
                if (job == null) {
                    job = new Job(entry.spec().name(), daemonUid, new JobLifecycle(entry.resolved().supervision(),
                            ThreadLocalRandom.current()::nextDouble));
                    job.source = JobsDirectory.SOURCE;
                    jobs.put(job.name, job);
                    setSpec(job, entry.spec(), entry.resolved());
                    added.add(job.name);
                    if (entry.resolved().supervision().autostart()) {
                        act(job, job.lifecycle.start());
                    }
                } else if (!job.spec.equals(entry.spec())) {
                    setSpec(job, entry.spec(), entry.resolved());
                    changed.add(job.name);
                }
            }
            // An incomplete scan (the directory refused or unreadable) says nothing of what is gone.
            for (Job job : scan.complete() ? List.copyOf(jobs.values()) : List.<Job>of()) {
                if (JobsDirectory.SOURCE.equals(job.source) && !scan.jobs().containsKey(job.name)) {
                    removed.add(job.name);
                    if (job.state().hasProcess()) {
                        job.removeWhenStopped = true;
                        stopJob(job, null, null);
                    } else {
                        act(job, job.lifecycle.stop());
                        forget(job);
                    }
                }
            }
            return CompletableFuture.completedFuture(new ReloadReport(added, changed, removed, errors));
        });
    }

    private void setSpec(Job job, JobSpec spec, ResolvedJob resolved) {
        job.spec = spec;
        job.resolved = resolved;
        job.lifecycle.update(resolved.supervision());
    }

    /**
     * The job named {@code name} as {@code uid} may see it. To a non-root client another user's
     * job does not exist: the answer is the very one a missing job gets, so neither the name nor
     * its owner leaks (docs/security.md, need to know).
     */
    private Job find(String name, int uid) {
        Job job = jobs.get(name);
        if (job == null || !visible(job, uid)) {
            throw notFound(name);
        }
        return job;
    }

    private static RequestException notFound(String name) {
        return new RequestException(ErrorCode.NOT_FOUND, "no job named " + name);
    }

    /** Root sees every job; anyone else only its own. */
    private static boolean visible(Job job, int uid) {
        return uid == 0 || job.owner == uid;
    }

    // ---- carrying out the lifecycle's actions ----

    private void act(Job job, JobLifecycle.Action action) {
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
        }
        publish(job);
    }

    private void launch(Job job) {
        cancel(job.restartTimer);
        long run = ++job.run;
        ResolvedJob resolved = job.resolved;
        job.startedAt = clock.instant();
        job.pid = null; // nothing may signal the previous run's numbers
        job.pgid = null;
        job.readyAt = null;
        job.pidfileId = null;
        job.lastError = null;
        job.notifyStatus = null;
        job.launchCancel = null;
        if (!exempt(job.owner) && launchesInFlight(job.owner) >= limits.maxStartsPerUser()) {
            // Only a restart gets here (a start request past the limit was refused): it waits its turn.
            try {
                waitingStarts.computeIfAbsent(job.owner, owner -> new java.util.ArrayDeque<>()).add(job);
                job.waitingToStart = true;
                log.info("job " + job.name + ": uid " + job.owner + " has " + limits.maxStartsPerUser() + " starts"
                        + " pending, the most a user may have (" + Limits.STARTS_OPTION + "): waiting for one to end");
                return;
            } catch (OutOfMemoryError e) {
                unqueue(job); // no room to queue it: it starts now rather than stay STARTING for ever
            }
        }
        dispatch(job, run, resolved);
    }

    /** Hands the job to the launcher; its result comes back to the loop as an event. */
    private void dispatch(Job job, long run, ResolvedJob resolved) {
        log.info("job " + job.name + ": starting " + resolved.argv());
        job.launchesInFlight++;
        CompletableFuture<LaunchResult> launch;
        try {
            job.launchCancel = new LaunchCancel();
            launch = launcher.launch(resolved, job.launchCancel);
        } catch (RuntimeException | LinkageError | OutOfMemoryError | StackOverflowError e) {
            // Whatever happens, the loop must hear back, or the job would stay STARTING forever.
            dev.blivet.common.ExitCode code = e instanceof VirtualMachineError ? dev.blivet.common.ExitCode.OS_ERROR
                    : dev.blivet.common.ExitCode.SOFTWARE;
            launch = CompletableFuture.completedFuture(new LaunchResult.Failed(code, (code == dev.blivet.common.ExitCode.OS_ERROR
                    ? "os error: out of resources starting job " + job.name + ": " : "internal error: ") + e, null));
        }
        launch.whenComplete((result, error) -> post(() -> {
            job.launchesInFlight--;
            launched(job, run, result != null ? result : new LaunchResult.Failed(dev.blivet.common.ExitCode.SOFTWARE,
                    "internal error: " + error, null));
            admitWaiting(job.owner);
        }));
    }

    /** Root and blivetd's own user run blivetd: they are trusted and not limited. */
    private boolean exempt(int uid) {
        return uid == 0 || uid == daemonUid;
    }

    private int launchesInFlight(int uid) {
        int n = 0;
        for (Job job : jobs.values()) {
            if (job.owner == uid) {
                n += job.launchesInFlight;
            }
        }
        return n;
    }

    private void checkStartLimit(int uid) {
        if (exempt(uid)) {
            return;
        }
        java.util.ArrayDeque<Job> waiting = waitingStarts.get(uid);
        int pending = launchesInFlight(uid) + (waiting == null ? 0 : waiting.size());
        if (pending >= limits.maxStartsPerUser()) {
            throw new RequestException(ErrorCode.LIMIT_EXCEEDED, "uid " + uid + " has " + pending + " starts pending, the"
                    + " most a user may have (" + limits.maxStartsPerUser() + ", blivetd " + Limits.STARTS_OPTION
                    + "): start again once one of them is ready or has failed");
        }
    }

    private void checkJobLimit(int uid) {
        if (exempt(uid)) {
            return;
        }
        long owned = jobs.values().stream().filter(job -> job.owner == uid).count();
        if (owned >= limits.maxJobsPerUser()) {
            throw new RequestException(ErrorCode.LIMIT_EXCEEDED, "uid " + uid + " has " + owned + " jobs, the most a user"
                    + " may have (" + limits.maxJobsPerUser() + ", blivetd " + Limits.JOBS_OPTION + "): remove one first");
        }
    }

    /** A start of {@code uid} ended: its oldest waiting restart that still wants to start goes next. */
    private void admitWaiting(int uid) {
        java.util.ArrayDeque<Job> waiting = waitingStarts.get(uid);
        while (waiting != null && !waiting.isEmpty() && launchesInFlight(uid) < limits.maxStartsPerUser()) {
            Job job = waiting.poll();
            job.waitingToStart = false;
            if (jobs.get(job.name) == job && job.state() == JobState.STARTING) {
                dispatch(job, job.run, job.resolved);
            }
        }
        if (waiting != null && waiting.isEmpty()) {
            waitingStarts.remove(uid);
        }
    }

    private void unqueue(Job job) {
        java.util.ArrayDeque<Job> waiting = waitingStarts.get(job.owner);
        if (waiting != null) {
            waiting.remove(job);
            if (waiting.isEmpty()) {
                waitingStarts.remove(job.owner);
            }
        }
        job.waitingToStart = false;
    }

    private void launched(Job job, long run, LaunchResult result) {
        if (run == job.run) {
            job.launchCancel = null;
        }
        if (jobs.get(job.name) != job || run != job.run) {
            if (result instanceof LaunchResult.Started started) {
                groups.signalGroup(started.pgid(), started.pid(), SIGKILL); // its job was replaced meanwhile
                os.close(started.notifyFd());
                if (started.notifySocket() != null) {
                    started.notifySocket().close();
                }
            }
            return;
        }
        Instant now = clock.instant();
        if (result instanceof LaunchResult.Started started) {
            job.pid = started.pid();
            job.pgid = started.pgid();
            job.readyAt = started.readyAt();
            job.pidfileId = started.pidfile();
            job.output = started.output();
            job.notifySocket = started.notifySocket();
            if (job.notifySocket != null) {
                job.notifyStatus = job.notifySocket.status();
                notifyWatcher.watch(job.notifySocket);
            }
            if (started.notifyFd() >= 0) {
                job.notifyPipe = new DrainedPipe(os, started.notifyFd());
                notifyWatcher.watch(job.notifyPipe);
            }
            started.exit().whenComplete((exit, error) -> post(() -> exited(job, run, exit)));
            log.info("job " + job.name + ": running, pid " + job.pid);
            act(job, job.lifecycle.ready(now));
            job.startWaiters.forEach(waiter -> waiter.complete(snapshot(job)));
        } else if (result instanceof LaunchResult.Failed failed) {
            if (failed.output() != dev.blivet.daemon.launch.OutputFiles.NONE) {
                job.output = failed.output();
            }
            job.lastError = failed.message();
            job.lastExit = failed.jobExit();
            job.exitedAt = failed.jobExit() != null ? now : job.exitedAt;
            log.warn("job " + job.name + ": " + failed.message());
            act(job, job.lifecycle.launchFailed(now, failed.message()));
            ObjectNode details = JsonNodeFactory.instance.objectNode();
            details.put("exit_code", failed.code().code());
            details.put("kind", failed.code().kind());
            if (failed.jobExit() != null) {
                details.put("job_exit", failed.jobExit().describe());
            }
            RequestException error = new RequestException(ErrorCode.START_FAILED, failed.message(), details);
            job.startWaiters.forEach(waiter -> waiter.completeExceptionally(error));
            stoppedIfDown(job);
        }
        job.startWaiters.clear();
    }

    private void exited(Job job, long run, ExitStatus exit) {
        if (run != job.run || exit == null) {
            return;
        }
        job.exitedAt = clock.instant();
        job.lastExit = exit;
        cancel(job.killTimer);
        if (job.notifyPipe != null) {
            notifyWatcher.release(job.notifyPipe);
            job.notifyPipe = null;
        }
        if (job.notifySocket != null) {
            job.notifyStatus = job.notifySocket.status();
            notifyWatcher.release(job.notifySocket);
            job.notifySocket = null;
        }
        Pidfiles.removeIfOurs(paths, job.resolved.pidfile(), job.pidfileId, job.pid, false);
        log.info("job " + job.name + ": pid " + job.pid + " ended with " + exit.describe());
        job.pid = null; // reaped: the number may already be another job's
        job.pgid = null;
        act(job, job.lifecycle.exited(exit, job.exitedAt));
        stoppedIfDown(job);
    }

    /** Answers stop requests and carries out a pending removal once nothing runs. */
    private void stoppedIfDown(Job job) {
        if (job.state().hasProcess()) {
            return;
        }
        job.stopWaiters.forEach(waiter -> waiter.complete(snapshot(job)));
        job.stopWaiters.clear();
        if (job.removeWhenStopped && jobs.get(job.name) == job) {
            forget(job);
        }
    }

    /** Removes the job; whoever still waits for one of its states learns that it is gone. */
    private void forget(Job job) {
        jobs.remove(job.name);
        published.forget(job.name);
        RequestException gone = new RequestException(ErrorCode.NOT_FOUND, "no job named " + job.name
                + " (it was removed while you waited)");
        stateWaiters.removeIf(waiter -> waiter.job == job && waiter.reply.completeExceptionally(gone));
    }

    private void signalStop(Job job, Integer signal, Duration timeout) {
        int sig = signal != null ? signal : job.resolved.supervision().stopSignal();
        Duration grace = timeout != null ? timeout : job.resolved.supervision().stopTimeout();
        log.info("job " + job.name + ": stopping with " + Signals.name(sig) + ", SIGKILL after " + grace.toMillis() + " ms");
        deliver(job, sig, true);
        long run = job.run;
        cancel(job.killTimer);
        job.killTimer = timers.schedule(() -> post(() -> {
            if (job.run == run && job.state() == JobState.STOPPING) {
                log.warn("job " + job.name + ": still alive after " + grace.toMillis() + " ms, sending SIGKILL");
                deliver(job, SIGKILL, true);
            }
        }), grace.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * To the main process, and with {@code group} to the job's process group (the session the
     * helper created, holding whatever the job forked), only while they are provably the job's:
     * the main process while it is our unreaped child, the group while an unreaped child anchors
     * it (see {@link ProcessGroups}). Late or stale numbers reach nobody.
     */
    private void deliver(Job job, int signal, boolean group) {
        if (job.pid == null) {
            return;
        }
        int pid = job.pid;
        if (group && job.pgid != null) {
            groups.signalGroup(job.pgid, pid, signal);
        }
        groups.signalProcess(pid, signal); // also when it left the group with setsid()
    }

    private void scheduleRestart(Job job, Duration delay) {
        long run = job.run;
        log.info("job " + job.name + ": restarting in " + delay.toMillis() + " ms");
        cancel(job.restartTimer);
        job.restartTimer = timers.schedule(() -> post(() -> {
            if (job.run == run && jobs.get(job.name) == job) {
                act(job, job.lifecycle.restartDue());
            }
        }), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private static void cancel(java.util.concurrent.Future<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    /**
     * The job's snapshot, published first (while the job is still one of ours) for the lock-free
     * {@code status}: whatever a reply or event tells a client, a later status tells it too.
     */
    private JobSnapshot snapshot(Job job) {
        JobSnapshot snapshot = job.snapshot();
        if (jobs.get(job.name) == job) {
            published.show(snapshot);
        }
        return snapshot;
    }

    /** Tells waiters and subscribers about the job's current state. */
    private void publish(Job job) {
        JobSnapshot snapshot = snapshot(job);
        for (Iterator<StateWaiter> it = stateWaiters.iterator(); it.hasNext();) {
            StateWaiter waiter = it.next();
            if (waiter.job == job && waiter.states.contains(job.state())) {
                it.remove();
                waiter.reply.complete(snapshot);
            }
        }
        subscribers.removeIf(s -> (s.uid() == 0 || s.uid() == job.owner) && !s.offer(snapshot));
    }

    /** Stops every job (each with its own signal and timeout); answers with their final snapshots. */
    public CompletableFuture<List<JobSnapshot>> stopAll() {
        return call(() -> {
            List<CompletableFuture<JobSnapshot>> stops = new ArrayList<>();
            for (Job job : List.copyOf(jobs.values())) {
                boolean up = job.state().hasProcess() || job.state() == JobState.BACKOFF;
                stops.add(up ? stopJob(job, null, null) : CompletableFuture.completedFuture(snapshot(job)));
            }
            return CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
                    .thenApply(done -> stops.stream().map(CompletableFuture::join).toList());
        });
    }

    /** Stops taking requests. */
    @Override
    public void close() {
        running = false;
        post(() -> { });
        timers.shutdownNow();
        notifyWatcher.close();
    }
}
