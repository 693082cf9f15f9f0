package dev.blivet.daemon.launch;

import dev.blivet.common.ExitCode;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;

/**
 * Starts blivet-spawn with posix_spawnp: glibc runs the child natively until exec, so no Java code
 * runs in a forked JVM (docs/architecture.md, Rule 1). The plan travels in a memfd, never in argv.
 */
final class HelperSpawner {
    static final String HELPER_PROPERTY = "blivet.spawnHelper";
    static final String HELPER_NAME = "blivet-spawn";
    /** Our fds are moved at least this high so no dup2 of the file actions overwrites another. */
    private static final int LOWEST_SOURCE_FD = 10;
    /** posix_spawn_file_actions_t is 80 bytes on 64-bit glibc; room to spare. */
    private static final int FILE_ACTIONS_SIZE = 256;
    private static final String DEV_NULL = "/dev/null";
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int F_SETFL = 4;

    /** The helper's pid and the read ends of its pipes (readyFd is -1 unless asked for). */
    record Spawned(int pid, int reportFd, int readyFd) {
    }

    private final NativeOs os;
    private final String helperPath;

    HelperSpawner(NativeOs os, Path helper) {
        this.os = os;
        this.helperPath = helper.toString();
    }

    /**
     * The helper binary: the {@value #HELPER_PROPERTY} system property, else {@value #HELPER_NAME}
     * beside the jar (or the classes directory) blivetd runs from.
     */
    static Path locateHelper() {
        String configured = System.getProperty(HELPER_PROPERTY);
        if (configured != null) {
            return Path.of(configured);
        }
        try {
            Path code = Path.of(HelperSpawner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return code.resolveSibling(HELPER_NAME);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate " + HELPER_NAME, e);
        }
    }

    static void checkHelper(Path helper) {
        if (!Files.isRegularFile(helper) || !Files.isExecutable(helper)) {
            throw new IllegalStateException(HELPER_NAME + " not found or not executable at " + helper
                    + " (build it with mvn package, or set -D" + HELPER_PROPERTY + "=PATH)");
        }
    }

    Spawned spawn(String jobName, byte[] plan, boolean readyPipe) throws LaunchException {
        return spawn(jobName, plan, readyPipe, -1);
    }

    /**
     * @param cgroupFd the job's cgroup directory, handed over as fd {@value HelperProtocol#CGROUP_FD}
     *     (-1: none); still the caller's to close
     */
    Spawned spawn(String jobName, byte[] plan, boolean readyPipe, int cgroupFd) throws LaunchException {
        int[] report = {-1, -1};
        int[] ready = {-1, -1};
        int planFd = -1;
        try {
            planFd = writePlan(plan);
            planFd = lift(planFd);
            report = pipe();
            liftPair(report);
            if (readyPipe) {
                ready = pipe();
                liftPair(ready);
            }
            // Only blivetd's read ends: the launch loop reads them without ever blocking, while the
            // job's write end of its notify pipe keeps the ordinary blocking semantics. Before the
            // spawn, so that nothing after it can fail and leave a helper nobody watches.
            nonBlocking(report[0]);
            if (readyPipe) {
                nonBlocking(ready[0]);
            }
            int pid = spawnHelper(jobName, planFd, report[1], ready[1], cgroupFd);
            int reportRead = report[0];
            int readyRead = ready[0];
            report[0] = -1; // handed to the caller
            ready[0] = -1;
            return new Spawned(pid, reportRead, readyRead);
        } finally {
            os.close(planFd);
            for (int fd : new int[] {report[0], report[1], ready[0], ready[1]}) {
                os.close(fd);
            }
        }
    }

    /**
     * Everything {@link #spawn} does but the spawn: the plan's memfd, the pipes, the fd moves and
     * the file actions, made and undone. jnr binds each native function at its first call, and
     * that first call is slow; made once at boot, it is not a client's first start that pays.
     */
    void dryRun(byte[] plan) throws LaunchException {
        int planFd = -1;
        int[] report = {-1, -1};
        var spawn = os.spawnLibC();
        Pointer actions = Memory.allocateDirect(os.runtime(), FILE_ACTIONS_SIZE);
        try {
            planFd = lift(writePlan(plan));
            report = pipe();
            liftPair(report);
            nonBlocking(report[0]);
            check(spawn.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            try {
                check(spawn.posix_spawn_file_actions_addopen(actions, 0, DEV_NULL, O_RDONLY, 0), "addopen");
                check(spawn.posix_spawn_file_actions_adddup2(actions, planFd, HelperProtocol.PLAN_FD), "adddup2");
                check(os.libc().posix_spawn_file_actions_addclosefrom_np(actions, HelperProtocol.READY_FD + 1),
                        "addclosefrom_np");
            } finally {
                spawn.posix_spawn_file_actions_destroy(actions);
            }
        } finally {
            os.close(planFd);
            os.close(report[0]);
            os.close(report[1]);
        }
    }

    private int spawnHelper(String jobName, int planFd, int reportWrite, int readyWrite, int cgroupFd)
            throws LaunchException {
        var spawn = os.spawnLibC();
        Pointer actions = Memory.allocateDirect(os.runtime(), FILE_ACTIONS_SIZE);
        check(spawn.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
        try {
            check(spawn.posix_spawn_file_actions_addopen(actions, 0, DEV_NULL, O_RDONLY, 0), "addopen");
            check(spawn.posix_spawn_file_actions_addopen(actions, 1, DEV_NULL, O_WRONLY, 0), "addopen");
            check(spawn.posix_spawn_file_actions_addopen(actions, 2, DEV_NULL, O_WRONLY, 0), "addopen");
            check(spawn.posix_spawn_file_actions_adddup2(actions, planFd, HelperProtocol.PLAN_FD), "adddup2");
            check(spawn.posix_spawn_file_actions_adddup2(actions, reportWrite, HelperProtocol.REPORT_FD), "adddup2");
            if (readyWrite >= 0) {
                check(spawn.posix_spawn_file_actions_adddup2(actions, readyWrite, HelperProtocol.READY_FD), "adddup2");
            }
            if (cgroupFd >= 0) {
                check(spawn.posix_spawn_file_actions_adddup2(actions, cgroupFd, HelperProtocol.CGROUP_FD), "adddup2");
            }
            // The helper closes strays itself too; this keeps them from ever reaching its exec.
            check(os.libc().posix_spawn_file_actions_addclosefrom_np(actions, HelperProtocol.CGROUP_FD + 1), "addclosefrom_np");
            IntByReference pid = new IntByReference();
            CharSequence[] argv = {HELPER_NAME, jobName, null};
            CharSequence[] envp = {null};
            int rc = spawn.posix_spawnp(pid, helperPath, actions, null, argv, envp);
            if (rc != 0) {
                throw new LaunchException(ExitCode.OS_ERROR, "os error: " + spawnFailure(rc));
            }
            return pid.intValue();
        } finally {
            spawn.posix_spawn_file_actions_destroy(actions);
        }
    }

    /**
     * Which path a failed posix_spawn failed on: its errno covers the file actions' opens of
     * /dev/null as well as the exec of the helper, and blaming the helper for a /dev/null that
     * cannot be opened (a /dev mounted nodev, a file put in its place) sends the operator the
     * wrong way.
     */
    private String spawnFailure(int rc) {
        for (int flags : new int[] {O_RDONLY, O_WRONLY}) {
            int fd = os.libc().openat(LinuxLibC.AT_FDCWD, DEV_NULL, flags | LinuxLibC.O_CLOEXEC, 0);
            if (fd < 0) {
                int errno = os.errno();
                return "cannot open " + DEV_NULL + " (for " + HELPER_NAME + "'s stdin, stdout and stderr) for "
                        + (flags == O_RDONLY ? "reading" : "writing") + ": " + os.strerror(errno)
                        + " (is /dev mounted nodev, or is " + DEV_NULL + " not the null device?)";
            }
            os.close(fd);
        }
        return "posix_spawn " + helperPath + ": " + os.strerror(rc);
    }

    private int writePlan(byte[] plan) throws LaunchException {
        int fd = os.libc().memfd_create("blivet-plan", LinuxLibC.MFD_CLOEXEC);
        if (fd < 0) {
            throw osError("memfd_create");
        }
        int written = 0;
        while (written < plan.length) {
            byte[] rest = written == 0 ? plan : Arrays.copyOfRange(plan, written, plan.length);
            long n = os.libc().write(fd, rest, rest.length);
            if (n < 0 && os.errno() != LinuxLibC.EINTR) {
                int errno = os.errno();
                os.close(fd);
                throw new LaunchException(ExitCode.OS_ERROR, "os error: writing the plan: " + os.strerror(errno));
            }
            written += (int) Math.max(n, 0);
        }
        return fd;
    }

    private void nonBlocking(int fd) throws LaunchException {
        if (os.libc().fcntl(fd, F_SETFL, LinuxLibC.O_NONBLOCK) != 0) {
            throw osError("fcntl(F_SETFL)");
        }
    }

    private int[] pipe() throws LaunchException {
        int[] fds = new int[2];
        if (os.libc().pipe2(fds, LinuxLibC.O_CLOEXEC) != 0) {
            throw osError("pipe2");
        }
        return fds;
    }

    /** Lifts both ends in place; on failure the array still holds fds the caller must close. */
    private void liftPair(int[] pair) throws LaunchException {
        pair[0] = lift(pair[0]);
        pair[1] = lift(pair[1]);
    }

    /**
     * Moves a low fd up, so the dup2 actions onto 3, 4 and 5 never clobber a source. On failure
     * the original stays open for the caller to close.
     */
    private int lift(int fd) throws LaunchException {
        if (fd >= LOWEST_SOURCE_FD) {
            return fd;
        }
        int moved = os.libc().fcntl(fd, LinuxLibC.F_DUPFD_CLOEXEC, LOWEST_SOURCE_FD);
        if (moved < 0) {
            throw osError("fcntl");
        }
        os.close(fd);
        return moved;
    }

    private void check(int rc, String what) throws LaunchException {
        if (rc != 0) {
            throw new LaunchException(ExitCode.OS_ERROR, "os error: " + what + ": " + os.strerror(rc));
        }
    }

    private LaunchException osError(String what) {
        return new LaunchException(ExitCode.OS_ERROR, "os error: " + what + ": " + os.strerror(os.errno()));
    }
}
