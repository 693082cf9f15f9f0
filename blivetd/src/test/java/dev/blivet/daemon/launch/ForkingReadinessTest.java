package dev.blivet.daemon.launch;

import static dev.blivet.daemon.launch.Fixture.LAUNCHER;
import static dev.blivet.daemon.launch.Fixture.quote;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.common.ExitCode;
import dev.blivet.common.ResolvedJob;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.Proc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "readiness": "forking" through the real helper: a program that double-forks and writes its own
 * pidfile becomes a job whose main process is its daemon, and a pidfile naming anything that is
 * not a process of the job is refused with the pid and the file named.
 */
class ForkingReadinessTest {
    static final Path PROGRAM = Path.of("src/test/programs/forking-daemon.py").toAbsolutePath();
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int SIGTERM = 15;
    private static final int SIGKILL = 9;

    @TempDir
    Path tmp;
    Path pidfile;

    @BeforeEach
    void setUp() throws IOException {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        pidfile = tmp.resolve("daemon.pid");
    }

    private LaunchResult launch(String readyTimeout, String... args) throws Exception {
        StringBuilder command = new StringBuilder("[" + quote("/usr/bin/python3") + "," + quote(PROGRAM) + ","
                + quote(pidfile));
        for (String arg : args) {
            command.append(",").append(quote(arg));
        }
        return LAUNCHER.launch(Fixture.resolve("{\"name\":\"forking\",\"command\":" + command + "],"
                + "\"readiness\":\"forking\",\"pidfile\":" + quote(pidfile) + ",\"ready_timeout\":" + readyTimeout + "}"));
    }

    private static LaunchResult.Started started(LaunchResult result) {
        if (result instanceof LaunchResult.Failed failed) {
            throw new AssertionError("start failed: " + failed.code() + " " + failed.message());
        }
        return (LaunchResult.Started) result;
    }

    private static LaunchResult.Failed failed(LaunchResult result) {
        return assertInstanceOf(LaunchResult.Failed.class, result, "the start should have failed");
    }

    @Test
    void theDaemonTheProgramForkedBecomesTheJobAndItsExitCodeIsExact() throws Exception {
        LaunchResult.Started job = started(launch("30", "daemon", "7"));
        int written = Integer.parseInt(Files.readString(pidfile).strip());
        assertEquals(written, job.pid(), "the job's pid is the one its pidfile names");
        Proc daemon = new Proc(job.pid());
        assertTrue(daemon.exists());
        assertEquals(Proc.self(), daemon.ppid(), "the daemon is blivetd's child (subreaper)");
        assertEquals(daemon.pgid(), job.pgid(), "the job's group is the daemon's own: it left the helper's session");
        assertNotEquals(job.pid(), daemon.sid(), "the daemon double-forked: not a session leader");
        assertEquals(null, job.pidfile(), "blivet wrote no pidfile of its own");

        Fixture.OS.posix().kill(-job.pgid(), SIGTERM);
        ExitStatus exit = job.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(new ExitStatus(7, 0, false), exit, "the daemon's own exit: " + exit.describe());
        assertTrue(Files.exists(pidfile), "blivet never removes a forking job's pidfile: " + pidfile);
    }

    @Test
    void aDaemonKilledBySignalIsReportedSo() throws Exception {
        LaunchResult.Started job = started(launch("30", "daemon"));
        Fixture.OS.posix().kill(job.pid(), SIGKILL);
        ExitStatus exit = job.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(SIGKILL, exit.signal(), exit.describe());
        Fixture.OS.posix().kill(-job.pgid(), SIGKILL); // its worker
    }

    @Test
    void anInitialProcessThatFailsFailsTheStartWithItsStatus() throws Exception {
        LaunchResult.Failed failed = failed(launch("30", "fail", "3"));
        assertEquals(ExitCode.JOB_EXITED, failed.code(), failed.message());
        assertEquals(new ExitStatus(3, 0, false), failed.jobExit());
        assertTrue(failed.message().contains("initial process") && failed.message().contains("exit code 3"),
                failed.message());
    }

    @Test
    void aPidfileNamingInitIsRefused() throws Exception {
        LaunchResult.Failed failed = failed(launch("30", "write", "1"));
        assertEquals(ExitCode.JOB_EXITED, failed.code(), failed.message());
        assertTrue(failed.message().contains("pidfile " + pidfile + " names pid 1, which is init"), failed.message());
    }

    @Test
    void aPidfileNamingBlivetdIsRefused() throws Exception {
        LaunchResult.Failed failed = failed(launch("30", "write", Integer.toString(Proc.self())));
        assertTrue(failed.message().contains("names pid " + Proc.self() + ", which is blivetd itself"),
                failed.message());
    }

    @Test
    void aPidfileNamingAnotherJobsProcessIsRefused() throws Exception {
        LaunchResult.Started other = started(LAUNCHER.launch(Fixture.resolve(
                "{\"name\":\"other\",\"command\":[\"/bin/sleep\",\"1000\"]}")));
        try {
            LaunchResult.Failed failed = failed(launch("30", "write", Integer.toString(other.pid())));
            assertTrue(failed.message().contains("names pid " + other.pid() + ", which is another job's process"),
                    failed.message());
            assertTrue(new Proc(other.pid()).exists(), "the other job was not touched");
        } finally {
            Fixture.OS.posix().kill(-other.pgid(), SIGKILL);
            other.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    @Test
    void aPidfileNamingAProcessOutsideTheJobIsRefusedAtTheTimeout() throws Exception {
        // Our own parent: alive, but not a child of blivetd, so never the job's.
        int stranger = new Proc(Proc.self()).ppid();
        LaunchResult.Failed failed = failed(launch("2", "write", Integer.toString(stranger)));
        assertEquals(ExitCode.TIMEOUT, failed.code(), failed.message());
        assertTrue(failed.message().contains("names pid " + stranger + ", which is not a process of the job"),
                failed.message());
    }

    @Test
    void garbageInThePidfileIsNeverAPid() throws Exception {
        LaunchResult.Failed failed = failed(launch("2", "write", "1 2; rm -rf /"));
        assertEquals(ExitCode.TIMEOUT, failed.code(), failed.message());
        assertTrue(failed.message().contains("pidfile " + pidfile + " does not hold a pid"), failed.message());
        assertFalse(failed.message().contains("rm -rf"), "the content is never echoed: " + failed.message());
    }

    @Test
    void aSymlinkedPidfileIsRefused() throws Exception {
        // Validation refuses a symlink already there: the program makes it after validation.
        Path target = Files.writeString(tmp.resolve("target"), Proc.self() + "\n");
        LaunchResult.Failed failed = failed(launch("30", "symlink", target.toString()));
        assertTrue(failed.message().contains("pidfile " + pidfile + " is a symlink"), failed.message());
    }

    @Test
    void aPidfileLeftFromAnEarlierRunIsNotTakenForThisOne() throws Exception {
        // A stale pidfile naming a live child of ours: only a pidfile written after the spawn counts.
        LaunchResult.Started other = started(LAUNCHER.launch(Fixture.resolve(
                "{\"name\":\"stale\",\"command\":[\"/bin/sleep\",\"1000\"]}")));
        try {
            Files.writeString(pidfile, "999999\n");
            LaunchResult.Failed failed = failed(launch("2", "none"));
            assertEquals(ExitCode.TIMEOUT, failed.code(), failed.message());
            assertTrue(failed.message().contains("was not written since the start"), failed.message());
        } finally {
            Fixture.OS.posix().kill(-other.pgid(), SIGKILL);
            other.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    @Test
    void theDaemonIsWaitedForUntilItWritesItsPidfile() throws Exception {
        // The initial process exits before the daemon writes: the start polls, then adopts it.
        LaunchResult.Started job = started(launch("30", "daemon"));
        Await.until(WAIT, () -> new Proc(job.pid()).exists(), "the daemon runs");
        Fixture.OS.posix().kill(-job.pgid(), SIGTERM);
        assertEquals(0, job.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS).code());
    }

    private LaunchResult launchAsNobody(Path pidfile, String... args) throws Exception {
        StringBuilder command = new StringBuilder("[" + quote("/usr/bin/python3") + "," + quote(PROGRAM) + ","
                + quote(pidfile));
        for (String arg : args) {
            command.append(",").append(quote(arg));
        }
        return LAUNCHER.launch(Fixture.resolve("{\"name\":\"nobodys\",\"user\":\"nobody\",\"command\":" + command
                + "],\"readiness\":\"forking\",\"pidfile\":" + quote(pidfile) + ",\"ready_timeout\":30}"));
    }

    private Path nobodysDirectory(String name, String mode) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve(name));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
        Files.setAttribute(dir, "unix:uid", NOBODY);
        Files.setAttribute(dir, "unix:gid", NOBODY);
        return dir;
    }

    private static final int NOBODY = 65534;

    @Test
    void aUsersForkingJobIsItsOwnDaemonRunningAsThatUser() throws Exception {
        Path pidfile = nobodysDirectory("run", "rwxr-xr-x").resolve("d.pid");
        LaunchResult.Started job = started(launchAsNobody(pidfile, "daemon"));
        assertEquals(Integer.parseInt(Files.readString(pidfile).strip()), job.pid());
        assertTrue(new Proc(job.pid()).status("Uid").startsWith(NOBODY + "\t"), "the daemon runs as nobody");
        Fixture.OS.posix().kill(-job.pgid(), SIGTERM);
        assertEquals(0, job.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS).code());
    }

    @Test
    void aUsersPidfileMustBeOwnedByThatUser() throws Exception {
        // nobody may write into the directory, but the file there is root's: not nobody's claim.
        Path dir = nobodysDirectory("run", "rwxrwxrwx");
        Path pidfile = dir.resolve("d.pid");
        LaunchResult.Failed failed = failed(launchAsNobodyWritingAsRoot(pidfile));
        assertTrue(failed.message().contains("pidfile " + pidfile + " is owned by uid 0, not by the job's uid " + NOBODY),
                failed.message());
    }

    /** A root-owned file appears under the name after the spawn (as if the user had linked one in). */
    private LaunchResult launchAsNobodyWritingAsRoot(Path pidfile) throws Exception {
        java.util.concurrent.CompletableFuture<LaunchResult> result = LAUNCHER.launch(Fixture.resolve(
                "{\"name\":\"nobodys\",\"user\":\"nobody\",\"command\":[\"/bin/sh\",\"-c\",\"sleep 1\"],"
                + "\"readiness\":\"forking\",\"pidfile\":" + quote(pidfile) + ",\"ready_timeout\":30}"),
                new LaunchCancel());
        Files.writeString(pidfile, Proc.self() + "\n");
        return result.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void aUsersPidfileInADirectoryItCannotSearchIsNeverLookedAt() throws Exception {
        Path hidden = Files.createDirectory(tmp.resolve("hidden"));
        Files.setPosixFilePermissions(hidden, PosixFilePermissions.fromString("rwx------"));
        Path pidfile = hidden.resolve("d.pid");
        Files.writeString(pidfile, "1\n");
        // Validation would refuse it for a client (the helper runs as it); the jobs directory's
        // root-written spec can name it: the read refuses it without saying what is there.
        ResolvedJob job = Fixture.withPidfile(Fixture.resolve("{\"name\":\"nobodys\",\"user\":\"nobody\","
                + "\"command\":[\"/bin/true\"],\"readiness\":\"forking\",\"pidfile\":" + quote(tmp.resolve("x.pid"))
                + ",\"ready_timeout\":30}"), pidfile.toString());
        LaunchResult.Failed failed = failed(LAUNCHER.launch(job));
        assertTrue(failed.message().contains("pidfile " + pidfile + ": the job's user (uid " + NOBODY + ") cannot search "
                + hidden), failed.message());
        assertFalse(failed.message().contains("init"), "nothing of the file is told: " + failed.message());
    }
}
