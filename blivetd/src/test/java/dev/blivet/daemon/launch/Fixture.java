package dev.blivet.daemon.launch;

import dev.blivet.common.JobSpec;
import dev.blivet.common.JobSpecJson;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.SpecException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;

/**
 * One launcher per test JVM: the reaper's waitpid(-1) must be the only one in the process, and
 * the JVM is made a child subreaper once.
 */
final class Fixture {
    static final NativeOs OS = new NativeOs();
    static final Reaper REAPER;
    static final Launcher LAUNCHER;
    static final TestLibC LIBC = LibraryLoader.create(TestLibC.class).load(Platform.getNativePlatform().getStandardCLibraryName());
    static final JobSpecResolver RESOLVER = new JobSpecResolver(new NativeAccounts(), System.getenv());
    static final JobSpecJson JSON = new JobSpecJson();

    static {
        Reaper.becomeSubreaper(OS);
        REAPER = new Reaper(OS, (pid, exit, claimed) -> { });
        try {
            Path notifyDir = Files.createTempDirectory("blivet-notify");
            LAUNCHER = new Launcher(OS, REAPER, Launcher.defaultHelper(), notifyDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Fixture() {
    }

    static ResolvedJob resolve(String json) throws SpecException {
        JobSpec spec = JSON.parse(json);
        return RESOLVER.resolve(spec);
    }

    static boolean isRoot() {
        return OS.posix().geteuid() == 0;
    }

    /** Whether some other process could take an exclusive flock on the file right now. */
    static boolean lockIsFree(Path file) {
        int fd = LIBC.open(file.toString(), TestLibC.O_RDWR | TestLibC.O_CLOEXEC, 0);
        if (fd < 0) {
            return true; // no file, no lock
        }
        try {
            boolean free = LIBC.flock(fd, TestLibC.LOCK_EX | TestLibC.LOCK_NB) == 0;
            if (free) {
                LIBC.flock(fd, TestLibC.LOCK_UN);
            }
            return free;
        } finally {
            LIBC.close(fd);
        }
    }

    /** Takes an exclusive flock; close the returned fd to release it. */
    static int holdLock(Path file) {
        int fd = LIBC.open(file.toString(), TestLibC.O_RDWR | TestLibC.O_CREAT | TestLibC.O_CLOEXEC, 0644);
        if (fd < 0 || LIBC.flock(fd, TestLibC.LOCK_EX | TestLibC.LOCK_NB) != 0) {
            throw new AssertionError("could not lock " + file);
        }
        return fd;
    }

    static String quote(Object value) {
        return "\"" + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static Map<String, String> envOf(String... keyValues) {
        Map<String, String> env = new java.util.TreeMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            env.put(keyValues[i], keyValues[i + 1]);
        }
        return env;
    }

    /** The same job writing its pid to another file: a race with validation, faked. */
    static ResolvedJob withPidfile(ResolvedJob job, String pidfile) {
        return new ResolvedJob(job.name(), job.program(), job.argv(), job.env(), job.umask(), job.chroot(), job.chdir(),
                job.stdout(), job.stderr(), job.append(), job.lockfile(), pidfile, job.identity(), job.rlimits(),
                job.readiness(), job.notifyFd(), job.readyTimeout(), job.startGrace(), job.clientJob(), job.supervision(), job.limits());
    }
}
