package dev.blivet.daemon.launch;

import dev.blivet.common.Defaults;
import dev.blivet.common.ExitCode;
import dev.blivet.common.Readiness;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.Signals;
import dev.blivet.daemon.usage.JobCgroups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Starts one resolved job as a daemon and reports whether it became ready: spawns blivet-spawn,
 * reads its report, waits for readiness (exec, notify-fd, sd-notify, or for a forking job the
 * initial process's exit and its pidfile) and the start grace period, all within the job's
 * ready_timeout. A failed start leaves nothing behind: the job's process
 * group is killed and reaped, the pidfile blivet-spawn wrote is removed (never a forking job's,
 * which is the program's), its lock dies with it. A forking daemon that left the group with
 * setsid is out of a process group's reach: only the job's cgroup holds it.
 *
 * <p>Every start runs as a small state machine on a {@link LaunchLoop} thread: waiting, for
 * the report, readiness, the grace period or the reaper after a kill, costs no thread, and no
 * thread is created per start (see docs/architecture.md, Rule 5: no wait holds a thread). There
 * is one loop per core, up to {@link #MAX_LOOPS}, all made here: a spawn keeps its thread busy
 * in posix_spawn for a few hundred microseconds, and with two loops two spawns overlap on two
 * cores (a mass start from the jobs directory, many clients at once; docs/benchmarks.md).
 */
public final class Launcher implements AutoCloseable {
    /** How long to wait for the reaper after a SIGKILL: it only has to notice an exit. */
    private static final Duration REAP_WAIT = Duration.ofSeconds(5);
    /**
     * The longest a launch waits for its caller's record of the start: the supervisor answers in
     * the same loop task that handed the launch over, so only a bug reaches this.
     */
    private static final Duration RECORD_WAIT = Duration.ofSeconds(30);
    /**
     * A forking job's pidfile is looked at again after this, doubling up to PIDFILE_POLL_MAX: a
     * daemon usually writes it within milliseconds of its parent's exit, and a slow one costs a
     * look every quarter second, on the launch loop's timer, never a thread.
     */
    private static final Duration PIDFILE_POLL_FIRST = Duration.ofMillis(5);
    private static final Duration PIDFILE_POLL_MAX = Duration.ofMillis(250);
    /** Loops, each a thread, at most: spawns past the cores' count would only queue for them. */
    static final int MAX_LOOPS = 2;

    private final NativeOs os;
    private final TrustedPath paths;
    private final Reaper reaper;
    private final HelperSpawner spawner;
    private final PlanEncoder encoder = new PlanEncoder();
    private final LockHolders lockHolders;
    private final Path notifyDir;
    private final ProcessGroups groups;
    private final JobCgroupFds cgroupFds;
    private final LaunchLoop[] loops;
    private final AtomicInteger nextLoop = new AtomicInteger();
    private final ForkingPidfile forkingPidfiles;
    private final ForkedDaemon forkedDaemons;
    private final JobCgroups cgroups;
    /** Each launch gets its own notify socket path: a late close of the last one cannot unlink it. */
    private final AtomicLong notifySequence = new AtomicLong();

    /**
     * @param notifyDir where sd-notify sockets are made, created if missing; made 0711 so jobs of
     *     any user reach their own socket (each one is 0600 and owned by its job's user) but
     *     cannot list or create others
     */
    public Launcher(NativeOs os, Reaper reaper, Path helper, Path notifyDir) throws IOException {
        this(os, reaper, helper, notifyDir, null, JobCgroups.NONE);
    }

    /**
     * @param cgroupFds each job's cgroup, which the helper joins before it forks the job (null: no cgroups)
     * @param cgroups where each job's cgroup is (a forking job's daemon must be in it), or {@link JobCgroups#NONE}
     */
    public Launcher(NativeOs os, Reaper reaper, Path helper, Path notifyDir, JobCgroupFds cgroupFds, JobCgroups cgroups)
            throws IOException {
        HelperSpawner.checkHelper(helper);
        this.cgroupFds = cgroupFds;
        Files.createDirectories(notifyDir);
        Files.setPosixFilePermissions(notifyDir, PosixFilePermissions.fromString("rwx--x--x"));
        removeLeftoverSockets(notifyDir);
        this.os = os;
        this.reaper = reaper;
        this.spawner = new HelperSpawner(os, helper);
        this.notifyDir = notifyDir;
        this.groups = new ProcessGroups(os, reaper);
        this.loops = new LaunchLoop[Math.max(1, Math.min(MAX_LOOPS, Runtime.getRuntime().availableProcessors()))];
        for (int i = 0; i < loops.length; i++) {
            loops[i] = new LaunchLoop(os, i == 0 ? "blivet-launch" : "blivet-launch-" + (i + 1));
        }
        this.paths = TrustedPath.of(os);
        this.lockHolders = new LockHolders(Path.of("/proc/locks"), paths);
        this.forkingPidfiles = new ForkingPidfile(paths);
        this.forkedDaemons = new ForkedDaemon(Path.of("/proc"), (int) ProcessHandle.current().pid(), reaper);
        this.cgroups = cgroups;
    }

    /**
     * Sockets of jobs a blivetd that died was starting or running: nothing reads them any more.
     * The directory is blivetd's own (0711 in a socket directory only its owner may write), so
     * what is in it was made here.
     */
    private static void removeLeftoverSockets(Path notifyDir) throws IOException {
        try (var leftovers = Files.newDirectoryStream(notifyDir, "*.notify")) {
            for (Path leftover : leftovers) {
                Files.deleteIfExists(leftover);
            }
        }
    }

    /** The helper that {@link HelperSpawner#locateHelper()} finds. */
    public static Path defaultHelper() {
        return HelperSpawner.locateHelper();
    }

    /**
     * Starts {@code job}; the future completes (on the launch thread: keep dependents short) once
     * it is ready or its start has failed and been cleaned up. {@code cancel} cuts the wait short
     * (a stop while the job is starting). Never blocks; never throws for a failed start.
     */
    public CompletableFuture<LaunchResult> launch(ResolvedJob job, LaunchCancel cancel) {
        CompletableFuture<LaunchResult> result = new CompletableFuture<>();
        LaunchLoop loop = loops[Math.floorMod(nextLoop.getAndIncrement(), loops.length)];
        loop.submit(new Attempt(job, cancel, result, loop));
        return result;
    }

    /**
     * A start of {@code job} up to, not including, the spawn: its plan encoded, the helper's fds
     * and file actions made and undone (see {@link HelperSpawner#dryRun}). Nothing runs and
     * nothing is left open. For blivetd's warm-up at boot; any thread.
     */
    public void dryRun(ResolvedJob job) {
        try {
            spawner.dryRun(encoder.encode(job, job.env()));
        } catch (LaunchException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Starts {@code job} and blocks the calling thread until it is ready or failed: for tools and tests. */
    public LaunchResult launch(ResolvedJob job) {
        return launch(job, new LaunchCancel()).join();
    }

    @Override
    public void close() {
        for (LaunchLoop loop : loops) {
            loop.close();
        }
    }

    private enum Phase {
        /** The plan and the job's notify socket, made while the caller records the start. */
        PREPARE,
        /** Prepared: waiting for the caller's record of the start ({@link LaunchCancel#untilRecorded}). */
        RECORD,
        /** Recorded, not spawned yet. */
        SPAWN,
        /** Reading blivet-spawn's report until EOF. */
        REPORT,
        /** Waiting for the notify-fd newline or sd-notify READY=1. */
        READY,
        /** A forking job: waiting for the initial process to exit (0, or the start fails). */
        INITIAL_EXIT,
        /** A forking job: polling its pidfile until it names a process of the job. */
        PIDFILE,
        /** Ready; waiting out start_grace. */
        GRACE,
        /** EOF without the positive report: waiting (bounded) to learn how the process ended. */
        DEATH,
        /** Failed: helper sent SIGKILL, waiting (bounded) for its reap. */
        KILL_HELPER,
        /** Failed: group sent SIGKILL, waiting (bounded) for the daemon's reap. */
        KILL_DAEMON,
        DONE
    }

    /** One start, from spawn to ready or to a clean failure; touched on the loop thread only. */
    private final class Attempt implements LaunchLoop.Task {
        private final ResolvedJob job;
        /** The loop this start runs on, from spawn to answer, and its read buffer. */
        private final LaunchLoop loop;
        private final byte[] buffer;
        private final LaunchCancel cancel;
        private final CompletableFuture<LaunchResult> result;
        /** Readiness's deadline: ready_timeout from the spawn (docs/jobspec.md). */
        private long deadline;
        private final Instant startedAt = Instant.now();
        private final ReportParser report = new ReportParser();
        private Phase phase = Phase.PREPARE;
        /** The plan, encoded while the caller records the start. */
        private byte[] plan;
        /** End of the current bounded wait (GRACE, DEATH, KILL_*). */
        private long phaseEnd;
        private long spawnedAt;
        private long execAt;
        private Instant readyAt;
        private HelperSpawner.Spawned helper;
        private int reportFd = -1;
        private int readyFd = -1;
        private CompletableFuture<ExitStatus> helperExit;
        private int daemonPid = -1;
        private CompletableFuture<ExitStatus> daemonExit;
        /** The job's process group: the helper's session, or a forking job's daemon's own group. */
        private int groupId = -1;
        /** A forking job: the pidfile as it was before the spawn, the next look at it, and why the last did not do. */
        private ForkingPidfile.Stamp pidfileBefore;
        private long nextPidfileLook;
        private Duration pidfilePoll = PIDFILE_POLL_FIRST;
        private String pidfileWait;
        private SdNotifySocket notifySocket;
        private ExitStatus jobExit;
        private LaunchException failure;

        Attempt(ResolvedJob job, LaunchCancel cancel, CompletableFuture<LaunchResult> result, LaunchLoop loop) {
            this.job = job;
            this.loop = loop;
            this.buffer = loop.buffer();
            this.cancel = cancel;
            this.result = result;
        }

        @Override
        public int fd() {
            return switch (phase) {
                case REPORT -> reportFd;
                case READY -> notifySocket != null ? notifySocket.fd() : readyFd;
                default -> -1;
            };
        }

        @Override
        public long wakeAt() {
            return switch (phase) {
                case REPORT, READY, INITIAL_EXIT -> deadline;
                case PIDFILE -> nextPidfileLook - deadline < 0 ? nextPidfileLook : deadline;
                case RECORD, GRACE, DEATH, KILL_HELPER, KILL_DAEMON -> phaseEnd;
                default -> Long.MAX_VALUE;
            };
        }

        @Override
        public boolean step() {
            try {
                advance();
            } catch (LaunchException e) {
                fail(e);
            }
            return phase == Phase.DONE;
        }

        @Override
        public boolean crashed(Throwable error) {
            // Out of memory or threads is the machine's state, not a bug: the start fails as an OS error.
            LaunchException e = error instanceof VirtualMachineError
                    ? new LaunchException(ExitCode.OS_ERROR, "os error: out of resources while starting job " + job.name()
                            + ": " + error)
                    : new LaunchException(ExitCode.SOFTWARE, "internal error: " + error);
            if (failure == null) {
                fail(e);
            } else {
                finishFailure(); // the cleanup itself failed: release what can be released and answer
            }
            return phase == Phase.DONE;
        }

        /** Moves through as many phases as the current state allows. */
        private void advance() throws LaunchException {
            Phase before;
            do {
                before = phase;
                switch (phase) {
                    case PREPARE -> prepare();
                    case RECORD -> awaitRecord();
                    case SPAWN -> spawn();
                    case REPORT -> readReport();
                    case READY -> awaitReadiness();
                    case INITIAL_EXIT -> awaitInitialExit();
                    case PIDFILE -> awaitPidfile();
                    case GRACE -> awaitGrace();
                    case DEATH -> awaitDeath();
                    case KILL_HELPER -> afterHelperKilled();
                    case KILL_DAEMON -> afterDaemonKilled();
                    case DONE -> {
                    }
                }
            } while (phase != before);
        }

        private void prepare() throws LaunchException {
            cancel.onCancel(() -> loop.poke(this));
            List<String> env = new ArrayList<>(job.env());
            if (job.readiness() == Readiness.SD_NOTIFY) {
                notifySocket = SdNotifySocket.open(os, notifyDir.resolve(job.name() + "." + notifySequence.incrementAndGet()
                        + ".notify"), job.identity());
                env.add(Defaults.NOTIFY_SOCKET_ENV + "=" + notifySocket.path());
            }
            if (job.readiness() == Readiness.FORKING) {
                pidfileBefore = forkingPidfiles.stamp(job.pidfile()); // only a pidfile written after this counts
            }
            plan = encoder.encode(job, env, cgroupFds != null); // openCgroup gives an fd exactly then
            phase = Phase.RECORD;
            phaseEnd = System.nanoTime() + RECORD_WAIT.toNanos();
        }

        /** Nothing is spawned before the caller's record of the start: a crash must find it. */
        private void awaitRecord() throws LaunchException {
            failIfCancelled();
            String notRecorded = cancel.notRecordedBecause();
            if (notRecorded != null) {
                throw new LaunchException(ExitCode.OS_ERROR, "os error: " + notRecorded);
            }
            if (cancel.isRecorded()) {
                phase = Phase.SPAWN;
            } else if (System.nanoTime() - phaseEnd >= 0) {
                throw new LaunchException(ExitCode.SOFTWARE, "internal error: the start of job " + job.name()
                        + " was not recorded within " + seconds(RECORD_WAIT) + "; nothing was spawned");
            }
        }

        private void spawn() throws LaunchException {
            deadline = System.nanoTime() + job.readyTimeout().toNanos();
            int cgroupFd = openCgroup();
            try {
                spawnedAt = System.nanoTime();
                helper = spawner.spawn(job.name(), plan, job.readiness() == Readiness.NOTIFY_FD, cgroupFd);
            } finally {
                os.close(cgroupFd);
            }
            groupId = helper.pid();
            reportFd = helper.reportFd();
            readyFd = helper.readyFd();
            reaper.childSpawned();
            helperExit = reaper.claim(helper.pid(), spawnedAt);
            helperExit.whenComplete((exit, error) -> loop.poke(this));
            phase = Phase.REPORT;
        }

        private int openCgroup() throws LaunchException {
            if (cgroupFds == null) {
                return -1;
            }
            try {
                return cgroupFds.open(job.name(), job.limits());
            } catch (IOException e) {
                throw new LaunchException(ExitCode.OS_ERROR, "os error: cannot prepare the cgroup of job " + job.name()
                        + ": " + e.getMessage());
            }
        }

        /** Reads what the report pipe holds; at EOF decides between failure and readiness. */
        private void readReport() throws LaunchException {
            // Read before looking at the cancel: the daemon's pid and its pidfile, in the pipe
            // already, are what the cleanup of a cancelled start needs to remove that pidfile.
            while (true) {
                long n = os.libc().read(reportFd, buffer, buffer.length);
                if (n == 0) {
                    failIfCancelled();
                    reportEnded();
                    return;
                }
                if (n < 0) {
                    int errno = os.errno();
                    if (errno == LinuxLibC.EINTR) {
                        continue;
                    }
                    if (errno == LinuxLibC.EAGAIN) {
                        break;
                    }
                    throw new LaunchException(ExitCode.OS_ERROR, "os error: reading the report pipe: " + os.strerror(errno));
                }
                report.feed(buffer, (int) n);
                if (report.forkedPid() > 0 && daemonPid < 0) {
                    daemonForked(report.forkedPid());
                }
            }
            failIfCancelled();
            if (System.nanoTime() - deadline >= 0) {
                throw timeout("blivet-spawn did not finish setting up the job");
            }
        }

        private void daemonForked(int pid) {
            daemonPid = pid;
            daemonExit = reaper.claim(pid, spawnedAt);
            daemonExit.whenComplete((exit, error) -> loop.poke(this));
            cancel.forked(pid);
        }

        private void reportEnded() throws LaunchException {
            execAt = System.nanoTime();
            os.close(reportFd);
            reportFd = -1;
            if (report.failed()) {
                throw helperFailure();
            }
            if (report.execPid() <= 0 || report.execPid() != daemonPid) {
                // EOF without the positive report: the helper or the daemon died on the way.
                phase = Phase.DEATH;
                phaseEnd = System.nanoTime() + REAP_WAIT.toNanos();
                return;
            }
            if (job.readiness() == Readiness.EXEC) {
                ready(); // execve succeeded: that is the readiness
            } else if (job.readiness() == Readiness.FORKING) {
                phase = Phase.INITIAL_EXIT;
            } else {
                phase = Phase.READY;
            }
        }

        /** How the process that should have reported ended, once the reaper knows (or after REAP_WAIT). */
        private void awaitDeath() throws LaunchException {
            CompletableFuture<ExitStatus> exit = daemonExit != null ? daemonExit : helperExit;
            if (!exit.isDone() && System.nanoTime() - phaseEnd < 0) {
                return;
            }
            ExitStatus died = exit.getNow(null);
            String who = daemonExit != null ? "the job's process (pid " + daemonPid + ")" : "blivet-spawn (pid "
                    + helper.pid() + ")";
            throw new LaunchException(ExitCode.JOB_EXITED, "start failed: " + who + " ended before it reported"
                    + " exec" + (died == null ? "" : ": " + died.describe()));
        }

        private void awaitReadiness() throws LaunchException {
            failIfCancelled();
            boolean isReady = job.readiness() == Readiness.SD_NOTIFY ? sdNotifyReady() : newlineOnNotifyFd();
            if (isReady) {
                ready();
                return;
            }
            failIfExited(job.readiness() == Readiness.SD_NOTIFY ? "before it sent READY=1"
                    : "before it wrote its readiness newline to fd " + job.notifyFd());
            if (System.nanoTime() - deadline >= 0) {
                throw timeout(job.readiness() == Readiness.SD_NOTIFY ? "no READY=1 on " + notifySocket.path()
                        : "no newline on fd " + job.notifyFd());
            }
        }

        /** A forking job's initial process daemonizes and exits: 0 is the go-ahead, anything else a failed start. */
        private void awaitInitialExit() throws LaunchException {
            failIfCancelled();
            if (daemonExit.isDone()) {
                ExitStatus exit = daemonExit.getNow(null);
                if (exit == null || !exit.exited() || exit.code() != 0) {
                    jobExit = exit;
                    throw new LaunchException(ExitCode.JOB_EXITED, "start failed: the initial process of forking job "
                            + job.name() + " (pid " + daemonPid + ") ended" + (exit == null ? "" : ": " + exit.describe()));
                }
                phase = Phase.PIDFILE;
                nextPidfileLook = System.nanoTime();
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw timeout("the initial process (pid " + daemonPid + ") did not exit");
            }
        }

        /**
         * Looks at the pidfile until it names a process of the job, which then becomes the job's
         * main process. What may still change (no file yet, a partial write, a daemon not yet
         * reparented to blivetd) is looked at again; what never will fails the start at once.
         */
        private void awaitPidfile() throws LaunchException {
            failIfCancelled();
            if (System.nanoTime() - nextPidfileLook < 0) {
                return;
            }
            int uid = job.identity() != null ? job.identity().uid() : (int) os.posix().geteuid();
            ForkingPidfile.Read read = forkingPidfiles.read(job.pidfile(), uid, job.identity(), pidfileBefore);
            if (read instanceof ForkingPidfile.Refused refused) {
                throw new LaunchException(ExitCode.JOB_EXITED, "start failed: job " + job.name() + ": " + refused.why());
            }
            if (read instanceof ForkingPidfile.NotYet notYet) {
                pidfileWait = notYet.why();
            } else if (read instanceof ForkingPidfile.Pid named) {
                ForkedDaemon.Check check = forkedDaemons.check(job.pidfile(), named.pid(),
                        job.identity() != null ? job.identity().uid() : -1, cgroups.dirOf(job.name()));
                if (check.verdict() == ForkedDaemon.Verdict.OK) {
                    adopt(named.pid());
                    return;
                }
                if (check.verdict() == ForkedDaemon.Verdict.NEVER) {
                    throw new LaunchException(ExitCode.JOB_EXITED, "start failed: job " + job.name() + ": "
                            + check.why() + ": refused");
                }
                pidfileWait = check.why();
            }
            if (System.nanoTime() - deadline >= 0) {
                throw timeout(pidfileWait);
            }
            nextPidfileLook = System.nanoTime() + pidfilePoll.toNanos();
            pidfilePoll = pidfilePoll.multipliedBy(2).compareTo(PIDFILE_POLL_MAX) > 0 ? PIDFILE_POLL_MAX
                    : pidfilePoll.multipliedBy(2);
        }

        /**
         * The daemon becomes the job's main process. Should it exit between the check and the
         * claim, the reaper has kept its exit (reaped after the spawn), so the claim still gets it.
         */
        private void adopt(int pid) throws LaunchException {
            daemonPid = pid;
            daemonExit = reaper.claim(pid, spawnedAt);
            daemonExit.whenComplete((exit, error) -> loop.poke(this));
            int group = os.libc().getpgid(pid);
            groupId = group > 0 ? group : groupId;
            cancel.forked(pid);
            ready();
        }

        private boolean sdNotifyReady() {
            notifySocket.drain();
            return notifySocket.ready();
        }

        private boolean newlineOnNotifyFd() throws LaunchException {
            while (true) {
                long n = os.libc().read(readyFd, buffer, buffer.length);
                if (n == 0) {
                    failIfExited("after it closed fd " + job.notifyFd() + " without a readiness newline");
                    throw new LaunchException(ExitCode.JOB_EXITED, "start failed: job " + job.name()
                            + " closed fd " + job.notifyFd() + " without writing its readiness newline");
                }
                if (n < 0) {
                    return false; // EAGAIN: nothing more yet (the pipe's read end is non-blocking)
                }
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        return true;
                    }
                }
            }
        }

        private void ready() throws LaunchException {
            readyAt = Instant.now();
            phase = Phase.GRACE;
            phaseEnd = execAt + job.startGrace().toNanos();
            awaitGrace();
        }

        private void awaitGrace() throws LaunchException {
            failIfCancelled();
            if (!job.startGrace().isZero()) {
                failIfExited("within its start grace period of " + seconds(job.startGrace()));
            }
            if (System.nanoTime() - phaseEnd < 0) {
                return;
            }
            // The notify pipe and socket are the caller's now.
            phase = Phase.DONE;
            result.complete(new LaunchResult.Started(daemonPid, groupId, readyFd, startedAt, readyAt,
                    notifySocket, daemonExit, report.pidfileId(), new OutputFiles(report.stdoutId(), report.stderrId())));
        }

        private void failIfCancelled() throws LaunchException {
            if (cancel.requested()) {
                throw new LaunchException(ExitCode.JOB_EXITED, "start cancelled: job " + job.name()
                        + " was stopped while it was starting");
            }
        }

        /** Fails the start if the reaper has collected the daemon, with how it ended. */
        private void failIfExited(String when) throws LaunchException {
            if (daemonExit == null || !daemonExit.isDone()) {
                return;
            }
            jobExit = daemonExit.getNow(null);
            throw new LaunchException(ExitCode.JOB_EXITED, "start failed: job " + job.name() + " exited " + when
                    + (jobExit == null ? "" : ": " + jobExit.describe()));
        }

        private LaunchException timeout(String what) {
            return new LaunchException(ExitCode.TIMEOUT, "readiness timeout: job " + job.name() + " was not ready within "
                    + seconds(job.readyTimeout()) + " (" + job.readiness().jsonName() + ": " + what + "); it was killed");
        }

        /** What the helper reported, in words; a lock conflict names the holder when /proc/locks does. */
        private LaunchException helperFailure() {
            HelperFailure failure = report.failure();
            if (failure == null) {
                return new LaunchException(ExitCode.SOFTWARE, "internal error: unexpected report from blivet-spawn: "
                        + report.garbled());
            }
            LaunchException e = failure.explain(os::strerror, job.identity() == null ? OptionalInt.empty()
                    : OptionalInt.of(job.identity().uid()));
            if (e.code() == ExitCode.UNAVAILABLE) {
                OptionalInt holder = lockHolders.holderOf(job.lockfile());
                if (holder.isPresent()) {
                    return new LaunchException(e.code(), "lock conflict: " + job.lockfile() + " is held by pid "
                            + holder.getAsInt());
                }
            }
            return e;
        }

        /**
         * Starts the cleanup: the helper first, since once it is gone the daemon is our child and
         * can anchor its group. Each reap is waited for on the loop, bounded by REAP_WAIT.
         */
        private void fail(LaunchException e) {
            if (failure != null) {
                return; // already cleaning up
            }
            failure = e;
            if (helper == null) {
                finishFailure();
                return;
            }
            groups.signalProcess(helper.pid(), Signals.SIGKILL);
            phase = Phase.KILL_HELPER;
            phaseEnd = System.nanoTime() + REAP_WAIT.toNanos();
            afterHelperKilled();
        }

        private void afterHelperKilled() {
            if (helperExit != null && !helperExit.isDone() && System.nanoTime() - phaseEnd < 0) {
                return;
            }
            // The helper's setsid made its pid the job's process group: the daemon and whatever it forked.
            groups.signalGroup(groupId, daemonPid, Signals.SIGKILL);
            if (daemonExit == null) {
                finishFailure();
                return;
            }
            phase = Phase.KILL_DAEMON;
            phaseEnd = System.nanoTime() + REAP_WAIT.toNanos();
            afterDaemonKilled();
        }

        private void afterDaemonKilled() {
            if (!daemonExit.isDone() && System.nanoTime() - phaseEnd < 0) {
                return;
            }
            ExitStatus exit = daemonExit.getNow(null);
            if (jobExit == null && exit != null && exit.signal() != Signals.SIGKILL) {
                jobExit = exit;
            }
            finishFailure();
        }

        /**
         * Reads what the report pipe still holds. A start cancelled or failed while the report was
         * being read leaves lines in it, the pidfile's among them, which the daemon wrote before
         * it was killed: without them the pidfile it created stays behind.
         */
        private void drainReport() {
            while (reportFd >= 0) {
                long n = os.libc().read(reportFd, buffer, buffer.length);
                if (n > 0) {
                    report.feed(buffer, (int) n);
                } else if (n == 0 || os.errno() != LinuxLibC.EINTR) {
                    return;
                }
            }
        }

        /** Removes the pidfile this start wrote, closes what it opened, and answers. */
        private void finishFailure() {
            phase = Phase.DONE;
            try {
                drainReport();
                Pidfiles.removeIfOurs(paths, job.pidfile(), report.pidfileId(), daemonPid, true);
            } finally {
                os.close(reportFd);
                os.close(readyFd);
                reportFd = -1;
                readyFd = -1;
                if (notifySocket != null) {
                    notifySocket.close();
                }
                LaunchException e = failure != null ? failure
                        : new LaunchException(ExitCode.SOFTWARE, "internal error: start of " + job.name() + " abandoned");
                result.complete(new LaunchResult.Failed(e.code(), e.getMessage(), jobExit,
                        new OutputFiles(report.stdoutId(), report.stderrId())));
            }
        }
    }

    private static String seconds(Duration duration) {
        double s = duration.toNanos() / 1e9;
        return (s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s)) + " s";
    }
}
