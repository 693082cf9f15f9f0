package dev.blivet.daemon.launch;

import dev.blivet.common.Defaults;
import dev.blivet.common.ExitCode;
import dev.blivet.common.Readiness;
import dev.blivet.common.ResolvedJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts one resolved job as a daemon and reports whether it became ready: spawns blivet-spawn,
 * reads its report, waits for readiness (exec, notify-fd or sd-notify) and the start grace period,
 * all within the job's ready_timeout. A failed start leaves nothing behind: the job's process
 * group is killed and reaped, the pidfile it wrote is removed, its lock dies with it.
 *
 * <p>Thread-safe: each call works on its own {@link Attempt}; the supervisor may launch several
 * jobs at once.
 */
public final class Launcher {
    private static final int SIGKILL = 9;
    /** How long to wait for the reaper after a SIGKILL: it only has to notice an exit. */
    private static final Duration REAP_WAIT = Duration.ofSeconds(5);

    private final NativeOs os;
    private final Reaper reaper;
    private final HelperSpawner spawner;
    private final PlanEncoder encoder = new PlanEncoder();
    private final LockHolders lockHolders = new LockHolders(Path.of("/proc/locks"));
    private final Path notifyDir;
    private final ProcessGroups groups;
    /** Each launch gets its own notify socket path: a late close of the last one cannot unlink it. */
    private final java.util.concurrent.atomic.AtomicLong notifySequence = new java.util.concurrent.atomic.AtomicLong();

    /**
     * @param notifyDir where sd-notify sockets are made, created if missing; made 0711 so jobs of
     *     any user reach their own socket (each one is 0600 and owned by its job's user) but
     *     cannot list or create others
     */
    public Launcher(NativeOs os, Reaper reaper, Path helper, Path notifyDir) throws IOException {
        HelperSpawner.checkHelper(helper);
        Files.createDirectories(notifyDir);
        Files.setPosixFilePermissions(notifyDir, PosixFilePermissions.fromString("rwx--x--x"));
        this.os = os;
        this.reaper = reaper;
        this.spawner = new HelperSpawner(os, helper);
        this.notifyDir = notifyDir;
        this.groups = new ProcessGroups(os, reaper);
    }

    /** The helper that {@link HelperSpawner#locateHelper()} finds. */
    public static Path defaultHelper() {
        return HelperSpawner.locateHelper();
    }

    public LaunchResult launch(ResolvedJob job) {
        try (LaunchCancel never = new LaunchCancel(os)) {
            return launch(job, never);
        }
    }

    /** A launch that {@code cancel} can cut short (a stop while the job is starting). */
    public LaunchResult launch(ResolvedJob job, LaunchCancel cancel) {
        return new Attempt(job, cancel).run();
    }

    /** One start, from spawn to ready or to a clean failure. */
    private final class Attempt {
        private final ResolvedJob job;
        private final LaunchCancel cancel;
        private final long deadline;
        private final Instant startedAt = Instant.now();
        private final byte[] buffer = new byte[4096];
        private long spawnedAt;
        private HelperSpawner.Spawned helper;
        private CompletableFuture<ExitStatus> helperExit;
        private int daemonPid = -1;
        private int daemonPidfd = -1;
        private CompletableFuture<ExitStatus> daemonExit;
        private SdNotifySocket notifySocket;
        private ExitStatus jobExit;
        private final ReportParser report = new ReportParser();

        Attempt(ResolvedJob job, LaunchCancel cancel) {
            this.job = job;
            this.cancel = cancel;
            this.deadline = System.nanoTime() + job.readyTimeout().toNanos();
        }

        LaunchResult run() {
            boolean started = false;
            try {
                List<String> env = new ArrayList<>(job.env());
                if (job.readiness() == Readiness.SD_NOTIFY) {
                    notifySocket = SdNotifySocket.open(os, notifyDir.resolve(job.name() + "." + notifySequence.incrementAndGet()
                            + ".notify"), job.identity());
                    env.add(Defaults.NOTIFY_SOCKET_ENV + "=" + notifySocket.path());
                }
                byte[] plan = encoder.encode(job, env);
                spawnedAt = System.nanoTime();
                helper = spawner.spawn(job.name(), plan, job.readiness() == Readiness.NOTIFY_FD);
                reaper.childSpawned();
                helperExit = reaper.claim(helper.pid(), spawnedAt);
                long execAt = readReport();
                awaitReadiness();
                Instant readyAt = Instant.now();
                awaitGrace(execAt);
                started = true;
                // The pidfd only watched the start. Kept for the job's life it would cost nothing
                // here, but every later spawn copies blivetd's fd table and the helper closes it
                // again: with 1000 running jobs that was 1000 fds per start. Signals reach the job
                // through the reaper's knowledge of its unreaped children (ProcessGroups).
                return new LaunchResult.Started(daemonPid, helper.pid(), helper.readyFd(), startedAt, readyAt,
                        notifySocket, daemonExit, report.pidfileId()); // the notify pipe and socket are the caller's now
            } catch (LaunchException e) {
                cleanUp();
                return new LaunchResult.Failed(e.code(), e.getMessage(), jobExit);
            } catch (RuntimeException | LinkageError e) {
                // A bug or a missing libc symbol must still leave nothing behind.
                cleanUp();
                return new LaunchResult.Failed(ExitCode.SOFTWARE, "internal error: " + e, jobExit);
            } finally {
                if (helper != null) {
                    os.close(helper.reportFd());
                    if (!started) {
                        os.close(helper.readyFd());
                    }
                }
                os.close(daemonPidfd);
                if (!started && notifySocket != null) {
                    notifySocket.close();
                }
            }
        }

        /** Reads the helper's report until EOF; returns when execve happened (nanoTime). */
        private long readReport() throws LaunchException {
            Poller poller = new Poller(os, helper.reportFd(), cancel.fd());
            while (true) {
                if (!poller.await(deadline)) {
                    throw timeout("blivet-spawn did not finish setting up the job");
                }
                failIfCancelled();
                long n = os.libc().read(helper.reportFd(), buffer, buffer.length);
                if (n == 0) {
                    break;
                }
                if (n < 0) {
                    int errno = os.errno();
                    if (errno == LinuxLibC.EINTR || errno == LinuxLibC.EAGAIN) {
                        continue;
                    }
                    throw new LaunchException(ExitCode.OS_ERROR, "os error: reading the report pipe: " + os.strerror(errno));
                }
                report.feed(buffer, (int) n);
                if (report.forkedPid() > 0 && daemonPid < 0) {
                    daemonForked(report.forkedPid());
                }
            }
            long execAt = System.nanoTime();
            if (report.failed()) {
                ExitCode code = ExitCode.fromCode(report.errorCode());
                throw new LaunchException(code, code == ExitCode.UNAVAILABLE ? nameLockHolder(report.errorMessage())
                        : report.errorMessage());
            }
            if (report.execPid() <= 0 || report.execPid() != daemonPid) {
                // EOF without the positive report: the helper or the daemon died on the way.
                ExitStatus died = daemonExit != null ? awaitExit(daemonExit) : awaitExit(helperExit);
                String who = daemonExit != null ? "the job's process (pid " + daemonPid + ")" : "blivet-spawn (pid "
                        + helper.pid() + ")";
                throw new LaunchException(ExitCode.JOB_EXITED, "start failed: " + who + " ended before it reported"
                        + " exec" + (died == null ? "" : ": " + died.describe()));
            }
            return execAt;
        }

        private void daemonForked(int pid) {
            daemonPid = pid;
            daemonExit = reaper.claim(pid, spawnedAt);
            // -1 when it is already gone: daemonExit then tells how it ended. A pidfd opened after
            // the reaper took the pid could name a stranger that reused it, so it is dropped then.
            daemonPidfd = os.libc().pidfd_open(pid, 0);
            if (daemonPidfd >= 0 && daemonExit.isDone()) {
                os.close(daemonPidfd);
                daemonPidfd = -1;
            }
        }

        private void awaitReadiness() throws LaunchException {
            switch (job.readiness()) {
                case EXEC -> {
                    // execve succeeded: that is the readiness.
                }
                case NOTIFY_FD -> awaitNotifyFd();
                case SD_NOTIFY -> awaitSdNotify();
            }
        }

        private void awaitNotifyFd() throws LaunchException {
            Poller poller = new Poller(os, helper.readyFd(), daemonPidfd, cancel.fd());
            while (true) {
                failIfCancelled();
                failIfExited("before it wrote its readiness newline to fd " + job.notifyFd());
                if (!poller.await(deadline)) {
                    throw timeout("no newline on fd " + job.notifyFd());
                }
                if (poller.isReady(0)) {
                    long n = os.libc().read(helper.readyFd(), buffer, buffer.length);
                    if (n == 0) {
                        failIfExited("after it closed fd " + job.notifyFd() + " without a readiness newline");
                        throw new LaunchException(ExitCode.JOB_EXITED, "start failed: job " + job.name()
                                + " closed fd " + job.notifyFd() + " without writing its readiness newline");
                    }
                    for (int i = 0; i < n; i++) {
                        if (buffer[i] == '\n') {
                            return;
                        }
                    }
                }
            }
        }

        private void awaitSdNotify() throws LaunchException {
            Poller poller = new Poller(os, notifySocket.fd(), daemonPidfd, cancel.fd());
            while (true) {
                failIfCancelled();
                notifySocket.drain();
                if (notifySocket.ready()) {
                    return;
                }
                failIfExited("before it sent READY=1");
                if (!poller.await(deadline)) {
                    throw timeout("no READY=1 on " + notifySocket.path());
                }
            }
        }

        private void awaitGrace(long execAt) throws LaunchException {
            long graceEnd = execAt + job.startGrace().toNanos();
            if (job.startGrace().isZero()) {
                return;
            }
            new Poller(os, daemonPidfd, cancel.fd()).await(graceEnd);
            failIfCancelled();
            failIfExited("within its start grace period of " + seconds(job.startGrace()));
        }

        private void failIfCancelled() throws LaunchException {
            if (cancel.requested()) {
                throw new LaunchException(ExitCode.JOB_EXITED, "start cancelled: job " + job.name()
                        + " was stopped while it was starting");
            }
        }

        /** Fails the start if the daemon has exited, with how it ended. */
        private void failIfExited(String when) throws LaunchException {
            boolean gone = daemonPidfd < 0 ? daemonExit.isDone() : isReadable(daemonPidfd);
            if (!gone) {
                return;
            }
            jobExit = awaitExit(daemonExit);
            throw new LaunchException(ExitCode.JOB_EXITED, "start failed: job " + job.name() + " exited " + when
                    + (jobExit == null ? "" : ": " + jobExit.describe()));
        }

        private boolean isReadable(int fd) {
            return new Poller(os, fd).await(System.nanoTime());
        }

        private LaunchException timeout(String what) {
            return new LaunchException(ExitCode.TIMEOUT, "readiness timeout: job " + job.name() + " was not ready within "
                    + seconds(job.readyTimeout()) + " (" + job.readiness().jsonName() + ": " + what + "); it was killed");
        }

        private String nameLockHolder(String message) {
            OptionalInt holder = lockHolders.holderOf(Path.of(job.lockfile()));
            return holder.isPresent() ? "lock conflict: " + job.lockfile() + " is held by pid " + holder.getAsInt() : message;
        }

        /** Kills whatever this start left running, reaps it, and removes the pidfile it wrote. */
        private void cleanUp() {
            if (helper == null) {
                return;
            }
            // The helper first: once it is gone the daemon is our child, and can anchor its group.
            groups.signalProcess(helper.pid(), SIGKILL);
            awaitExit(helperExit);
            // The helper's setsid made its pid the job's process group: the daemon and whatever it forked.
            groups.signalGroup(helper.pid(), daemonPid, SIGKILL);
            if (daemonExit != null) {
                ExitStatus exit = awaitExit(daemonExit);
                if (jobExit == null && exit != null && exit.signal() != SIGKILL) {
                    jobExit = exit;
                }
            }
            Pidfiles.removeIfOurs(job.pidfile(), report.pidfileId(), daemonPid, true);
        }

        private ExitStatus awaitExit(CompletableFuture<ExitStatus> exit) {
            if (exit == null) {
                return null;
            }
            try {
                return exit.get(REAP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    private static String seconds(Duration duration) {
        double s = duration.toNanos() / 1e9;
        return (s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s)) + " s";
    }
}
