package dev.blivet.daemon.supervisor;

import dev.blivet.common.JobSpec;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.protocol.JobState;
import dev.blivet.daemon.Log;
import dev.blivet.daemon.launch.Launcher;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.launch.OutputFiles;
import dev.blivet.daemon.ledger.Recorder;
import dev.blivet.daemon.ledger.Verdict;
import java.time.Clock;
import dev.blivet.common.Supervision;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * The supervisor's API: each request runs as one task on the {@link EventLoop}, the one owner of
 * all job state (docs/architecture.md, Rule 3), and answers with a {@link JobSnapshot} or fails
 * with a {@link Refused}. Who may see which job is the {@link JobTable}'s; what the lifecycle's
 * actions do is the {@link ActionRunner}'s; per-user limits are {@link StartLimits}'; waiters and
 * subscribers are the {@link Notifier}'s; the jobs directory is the {@link JobsReconciler}'s.
 *
 * <p>Authorization is by uid: root (0) sees and acts on every job, any other uid only on the jobs
 * it owns.
 */
public final class Supervisor implements AutoCloseable {
    private final DoubleSupplier jitter;
    private final EventLoop loop;
    private final Timers timers;
    private final RunChannels channels;
    private final JobTable table = new JobTable();
    private final StartLimits limits;
    private final Notifier notifier;
    private final ActionRunner runner;
    private final JobsReconciler reconciler;
    private volatile ReloadObserver reloadObserver = new ReloadObserver() {
        @Override
        public void before() {
        }

        @Override
        public void after() {
        }
    };
    private final boolean contained;
    private final Recorder ledger;
    private final int daemonUid;

    /**
     * @param jitter uniform in [0, 1): the restart delays' jitter
     * @param daemonUid blivetd's own uid: the owner of the jobs from the jobs directory
     * @param limits what each non-root uid may hold
     */
    public Supervisor(JobStarter starter, ProcessControl processes, RunChannels channels, Timers timers, Clock clock,
            DoubleSupplier jitter, EventLoop loop, Log log, int daemonUid, Limits limits) {
        this(starter, processes, channels, timers, clock, jitter, loop, log, daemonUid, limits, Recorder.none());
    }

    /** @param ledger told of every step of each job's custody (docs/architecture.md, "Custody: the ledger") */
    public Supervisor(JobStarter starter, ProcessControl processes, RunChannels channels, Timers timers, Clock clock,
            DoubleSupplier jitter, EventLoop loop, Log log, int daemonUid, Limits limits, Recorder ledger) {
        this.ledger = ledger;
        this.daemonUid = daemonUid;
        this.jitter = jitter;
        this.contained = processes.contained();
        this.loop = loop;
        this.timers = timers;
        this.channels = channels;
        this.limits = new StartLimits(limits, daemonUid, table, log);
        this.notifier = new Notifier(table, timers, loop);
        this.runner = new ActionRunner(table, this.limits, notifier, starter, processes, channels, timers, clock, loop, log,
                ledger);
        this.reconciler = new JobsReconciler(table, runner, entry -> newJob(entry.spec(), entry.resolved(), daemonUid,
                JobsDirectory.SOURCE));
    }

    /** blivetd's supervisor: the real launcher, its job's processes (cgroups or groups), notify watcher and timers, on its own loop thread. */
    public static Supervisor start(Launcher launcher, ProcessControl processes, NativeOs os, Log log, Clock clock,
            int daemonUid, Limits limits, Recorder ledger) {
        EventLoop loop = new EventLoop(log);
        Supervisor supervisor = new Supervisor(launcher::launch, processes,
                new NativeRunChannels(os), new ThreadTimers(), clock, () -> ThreadLocalRandom.current().nextDouble(),
                loop, log, daemonUid, limits, ledger);
        loop.startThread("blivet-supervisor");
        return supervisor;
    }

    /** Runs {@code body} on the loop; its result (or Refused) completes the future. */
    private <T> CompletableFuture<T> call(Supplier<CompletableFuture<T>> body) {
        CompletableFuture<T> reply = new CompletableFuture<>();
        if (!loop.isOpen()) {
            reply.completeExceptionally(new Refused(new Refusal.ShuttingDown()));
            return reply;
        }
        loop.post(() -> {
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
                reply.completeExceptionally(new Refused(new Refusal.OutOfResources(e)));
            }
        });
        return reply;
    }

    private Job newJob(JobSpec spec, ResolvedJob resolved, int owner, String source) {
        Job job = new Job(spec.name(), owner, new JobLifecycle(resolved.supervision(), jitter));
        job.source = source;
        job.contained = contained;
        job.setSpec(spec, resolved);
        return job;
    }

    /**
     * Starts a job from a spec a client sent, already resolved on behalf of {@code uid}.
     *
     * @param wait answer once the job is ready (or its start failed) rather than at once
     */
    public CompletableFuture<JobSnapshot> start(JobSpec spec, ResolvedJob resolved, int uid, boolean wait) {
        return call(() -> {
            Job job = table.get(spec.name());
            if (job != null) {
                if (!JobTable.visible(job, uid)) {
                    // Names are one name space for all users, so that the name is taken cannot be
                    // hidden; whose job holds it, and in what state, can.
                    throw new Refused(new Refusal.NameTaken(spec.name()));
                }
                if (job.owner != uid && !spec.equals(job.spec)) {
                    // The new spec was resolved for uid, not for the owner, who could then act on it.
                    throw new Refused(new Refusal.OwnedByOther(spec.name(), job.owner));
                }
                if (job.state().hasProcess()) {
                    if (spec.equals(job.spec)) {
                        return CompletableFuture.completedFuture(table.snapshot(job)); // already running
                    }
                    throw new Refused(new Refusal.Conflict(spec.name(), job.state(),
                            Refusal.Conflict.Kind.DIFFERENT_SPEC));
                }
                limits.checkStartLimit(uid); // before the new spec replaces the old one
                if (job.owner == uid) {
                    job.setSpec(spec, resolved);
                }
                // Else root sent the owner's very spec: the job starts as the owner resolved it.
                // Root's resolution would run it as root while its owner may still restart it.
            } else {
                limits.checkJobLimit(uid);
                limits.checkStartLimit(uid); // before the job exists, so a refusal leaves nothing behind
                job = newJob(spec, resolved, uid, "client");
                table.add(job);
            }
            return runner.start(job, uid, wait);
        });
    }

    /** Starts a job blivetd already knows. */
    public CompletableFuture<JobSnapshot> start(String name, int uid, boolean wait) {
        return call(() -> runner.start(table.find(name, uid), uid, wait));
    }

    /**
     * Stops a job: its stop signal (or {@code signal}) to the process group, SIGKILL after its
     * stop timeout (or {@code timeout}); answers once the job has been reaped.
     */
    public CompletableFuture<JobSnapshot> stop(String name, int uid, Integer signal, Duration timeout) {
        return call(() -> {
            Job job = table.find(name, uid);
            ledger.desired(job.name, false); // durable: after a reboot its autostart does not undo this stop
            return runner.stop(job, signal, timeout);
        });
    }

    /** Stops the job if it runs, then starts it and waits for it to be ready. */
    public CompletableFuture<JobSnapshot> restart(String name, int uid) {
        return stop(name, uid, null, null).thenCompose(stopped -> start(name, uid, true));
    }

    /** Sends a signal to the job's main process, or to its whole process group too. */
    public CompletableFuture<JobSnapshot> signal(String name, int uid, int signal, boolean group) {
        return call(() -> CompletableFuture.completedFuture(runner.signal(table.find(name, uid), signal, group)));
    }

    public CompletableFuture<JobSnapshot> status(String name, int uid) {
        // The published snapshot answers at once. A job it does not know, or another user's,
        // goes to the loop, which says not_found with the authority of the jobs themselves (the
        // same answer for both: another user's job does not exist to this client).
        Optional<JobSnapshot> shown = table.published(name, uid);
        if (shown.isPresent()) {
            return CompletableFuture.completedFuture(shown.get());
        }
        return call(() -> CompletableFuture.completedFuture(table.snapshot(table.find(name, uid))));
    }

    /** Every job the uid may see, by name. */
    public CompletableFuture<List<JobSnapshot>> list(int uid) {
        return call(() -> CompletableFuture.completedFuture(table.visibleTo(uid).stream().map(table::snapshot).toList()));
    }

    /** Forgets a job that is not running. */
    public CompletableFuture<JobSnapshot> remove(String name, int uid) {
        return call(() -> CompletableFuture.completedFuture(runner.remove(table.find(name, uid))));
    }

    /** Answers once the job is in one of {@code states}, or fails with a wait timeout. */
    public CompletableFuture<JobSnapshot> waitFor(String name, int uid, Set<JobState> states, Duration timeout) {
        return call(() -> notifier.waitFor(table.find(name, uid), states, timeout));
    }

    /** Streams every later state change the subscriber's uid may see. */
    public CompletableFuture<Void> subscribe(Subscriber subscriber) {
        return call(() -> {
            notifier.subscribe(subscriber);
            return CompletableFuture.completedFuture(null);
        });
    }

    public void unsubscribe(Subscriber subscriber) {
        loop.post(() -> notifier.unsubscribe(subscriber));
    }

    /** What the logs op needs of a job: its output paths, its owner, and which files they were opened as. */
    public CompletableFuture<JobOutput> output(String name, int uid) {
        return call(() -> {
            Job job = table.find(name, uid);
            if (job.resolved == null) {
                throw new Refused(new Refusal.Conflict(job.name, job.state(), Refusal.Conflict.Kind.NO_PROCESS));
            }
            return CompletableFuture.completedFuture(new JobOutput(job.resolved, job.owner, job.output));
        });
    }

    /** A job's output files as the logs op sees them. */
    public record JobOutput(ResolvedJob job, int owner, OutputFiles files) {
    }

    /**
     * A job read from the ledger at start-up with what re-adoption decided for it; {@code resolved}
     * null when its record or spec cannot be used ({@code problem} says why): it is then listed
     * FAILED until removed.
     */
    public record Restored(String name, int owner, String source, JobSpec spec, ResolvedJob resolved, boolean up,
            Verdict verdict, String problem) {
    }

    /**
     * Takes over the jobs an earlier blivetd left in the ledger, before anyone is served
     * (docs/architecture.md, "Custody: the ledger").
     */
    public CompletableFuture<Void> restore(List<Restored> jobs) {
        return call(() -> {
            for (Restored restored : jobs) {
                restore(restored);
            }
            return CompletableFuture.completedFuture(null);
        });
    }

    private void restore(Restored restored) {
        Job job;
        if (restored.resolved() == null) {
            job = new Job(restored.name(), restored.spec() != null ? restored.owner() : daemonUid,
                    new JobLifecycle(Supervision.defaults(), jitter));
            job.source = restored.source();
            job.contained = contained;
            job.spec = restored.spec();
            table.add(job);
            runner.act(job, job.lifecycle.unknown(restored.problem()));
            return;
        }
        job = newJob(restored.spec(), restored.resolved(), restored.owner(), restored.source());
        table.add(job);
        Verdict verdict = restored.verdict();
        if (verdict instanceof Verdict.Adopt adopt) {
            ledger.adopted(adopt.record());
            runner.adopt(job, adopt.process(), adopt.record().attempt());
            if (adopt.stop()) {
                runner.stop(job, null, null);
            }
        } else if (verdict instanceof Verdict.Ended ended) {
            if (ended.stayDown()) {
                job.run = ended.attempt();
                job.lastExit = ended.exit();
                job.exitedAt = job.lastExit != null ? Instant.now() : null;
                ledger.ended(job.name);
                runner.act(job, JobLifecycle.NONE);
            } else {
                runner.endedUnseen(job, ended.pid(), ended.attempt(), ended.exit());
            }
        } else if (verdict instanceof Verdict.Restart restart) {
            job.run = restart.attempt();
            runner.act(job, job.lifecycle.start());
        } else if (verdict instanceof Verdict.Unknown unknown) {
            runner.act(job, job.lifecycle.unknown(unknown.reason()));
        } else if (verdict instanceof Verdict.Over over) {
            job.run = over.record().attempt();
            job.lastExit = over.record().exit(); // the exit an earlier JVM saw, still shown
            ledger.adopted(over.record()); // kept: the JVM after this one must not start it either
            runner.act(job, JobLifecycle.NONE);
        } else {
            ledger.ended(job.name); // a run record of another boot means nothing
            if (restored.up() && restored.resolved().supervision().autostart()
                    && JobsDirectory.SOURCE.equals(job.source)) {
                // Its file may have changed or gone while blivetd was down: the directory, read
                // next, decides (JobsReconciler).
                job.startWithJobsDirectory = true;
                runner.act(job, JobLifecycle.NONE);
            } else if (restored.up() && restored.resolved().supervision().autostart()) {
                runner.act(job, job.lifecycle.start());
            } else {
                runner.act(job, JobLifecycle.NONE);
            }
        }
    }

    /** Applies a fresh read of the jobs directory (see {@link JobsReconciler}). */
    public CompletableFuture<ReloadReport> applyJobsDirectory(JobsDirectory.Scan scan) {
        ReloadObserver observer = reloadObserver;
        observer.before();
        return call(() -> CompletableFuture.completedFuture(reconciler.apply(scan)))
                .whenComplete((report, error) -> observer.after());
    }

    /** Told around every later {@link #applyJobsDirectory}, whoever asked for it (SIGHUP, the reload op). */
    public interface ReloadObserver {
        void before();

        void after();
    }

    /** systemd's RELOADING=1 and READY=1 around reloads; set once blivetd is ready. */
    public void observeReloads(ReloadObserver observer) {
        reloadObserver = observer;
    }

    /** Runs {@code task} on the loop after what is queued: systemd's watchdog proves the loop turns with it. */
    public void onLoop(Runnable task) {
        loop.post(task);
    }

    /** Stops every job (each with its own signal and timeout); answers with their final snapshots. */
    public CompletableFuture<List<JobSnapshot>> stopAll() {
        return call(() -> {
            List<CompletableFuture<JobSnapshot>> stops = new ArrayList<>();
            for (Job job : table.all()) {
                boolean up = job.state().hasProcess() || job.state() == JobState.BACKOFF || runner.hasLeftovers(job);
                if (!up) {
                    ledger.ended(job.name); // a clean stop: the next start is a fresh one, autostart applies
                }
                stops.add(up ? runner.stop(job, null, null) : CompletableFuture.completedFuture(table.snapshot(job)));
            }
            return CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
                    .thenApply(done -> stops.stream().map(CompletableFuture::join).toList());
        });
    }

    /** Stops taking requests. */
    @Override
    public void close() {
        loop.close();
        timers.close();
        channels.close();
    }
}
