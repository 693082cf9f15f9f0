package dev.blivet.daemon.launch;

import static dev.blivet.daemon.launch.Fixture.LAUNCHER;
import static dev.blivet.daemon.launch.Fixture.quote;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.blivet.common.Account;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.Proc;
import dev.blivet.common.ExitCode;
import dev.blivet.common.NativeAccounts;
import dev.blivet.common.ResolvedJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starts real daemons through the real helper and checks what a user would see in /proc and on
 * disk. CI runs as root; the tests that need root say so.
 */
class LauncherTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final AtomicInteger UNIQUE = new AtomicInteger();
    private static final int SIGTERM = 15;

    @TempDir
    Path tmp;

    @BeforeEach
    void openTempDir() throws IOException {
        // Jobs running as nobody must be able to reach their files below the test's temp dir.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** A sleep whose argument no other process has, so /proc can find exactly this job. */
    private static List<String> uniqueSleep() {
        return List.of("/bin/sleep", (100_000 + UNIQUE.incrementAndGet() * 7 + ProcessHandle.current().pid() % 1000) + "");
    }

    private static String jsonArray(List<String> items) {
        return items.stream().map(Fixture::quote).collect(Collectors.joining(",", "[", "]"));
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

    private static void stop(LaunchResult.Started job) throws Exception {
        Fixture.OS.posix().kill(-job.pgid(), SIGTERM);
        ExitStatus exit = job.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(SIGTERM, exit.signal(), "the job should die of SIGTERM: " + exit.describe());
    }

    private static void assertNoProcess(List<String> argv) {
        Await.until(WAIT, () -> Proc.findByCmdline(argv).isEmpty(), "no process " + argv);
    }

    @Test
    void daemonizesAsNobodyWithEveryOption() throws Exception {
        assumeTrue(Fixture.isRoot(), "CI runs as root: dropping to nobody needs it");
        Account nobody = new NativeAccounts().user("nobody").orElseThrow();
        Path work = Files.createDirectories(tmp.resolve("work"));
        // The job's files are made with nobody's own permissions: it gets directories of its own.
        Path run = ownedBy(nobody, Files.createDirectories(tmp.resolve("run")));
        Path log = ownedBy(nobody, Files.createDirectories(tmp.resolve("log")));
        Path out = log.resolve("out.log");
        Path err = log.resolve("err.log");
        ownedBy(nobody, Files.writeString(out, "earlier\n"));
        List<String> argv = uniqueSleep();
        ResolvedJob job = Fixture.resolve("""
                {"name": "full", "command": %s,
                 "env": {"GREETING": "hello world", "PATH": "/usr/bin:/bin"},
                 "chdir": %s, "umask": "027", "user": "nobody", "group": %s,
                 "pidfile": %s, "lockfile": %s, "stdout": %s, "stderr": %s, "append": true,
                 "rlimits": {"nofile": {"soft": 1000, "hard": 2000}, "core": 0}}
                """.formatted(jsonArray(argv), quote(work), quote(nobody.gid()), quote(run.resolve("full.pid")),
                quote(run.resolve("full.lock")), quote(out), quote(err)));

        LaunchResult.Started result = started(LAUNCHER.launch(job));
        Proc proc = new Proc(result.pid());
        try {
            assertEquals(argv, proc.cmdline());
            assertEquals(Proc.self(), proc.ppid(), "reparented to blivetd, the subreaper");
            assertNotEquals(result.pid(), proc.sid(), "not a session leader: cannot acquire a terminal");
            assertEquals(proc.sid(), proc.pgid(), "in the helper's new session and group");
            assertEquals(result.pgid(), proc.pgid());
            assertEquals(work, proc.cwd());
            assertEquals("0027", proc.status("Umask"));
            String id = nobody.uid() + "\t" + nobody.uid() + "\t" + nobody.uid() + "\t" + nobody.uid();
            assertEquals(id, proc.status("Uid"));
            String gid = nobody.gid() + "\t" + nobody.gid() + "\t" + nobody.gid() + "\t" + nobody.gid();
            assertEquals(gid, proc.status("Gid"));
            Set<Integer> expectedGroups = Arrays.stream(new NativeAccounts().groupsOf(nobody, nobody.gid())).boxed()
                    .collect(Collectors.toCollection(TreeSet::new));
            Set<Integer> groups = Arrays.stream(proc.status("Groups").split("\\s+")).filter(s -> !s.isEmpty())
                    .map(Integer::parseInt).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(expectedGroups, groups, "initgroups semantics: nobody's groups, none of root's");
            assertEquals("0000000000000000", proc.status("SigBlk"));
            assertEquals("0000000000000000", proc.status("SigIgn"));

            try {
                Await.until(WAIT, () -> proc.fds().size() == 4, "the job's fds to settle (the loader's libc closed)");
            } catch (AssertionError e) {
                // the assertions below say what is open
            }
            TreeSet<Integer> fds = proc.fds();
            assertEquals(4, fds.size(), () -> "only stdin, stdout, stderr and the lock: " + describe(proc, fds));
            assertEquals(Path.of("/dev/null"), proc.fdTarget(0));
            assertEquals(out, proc.fdTarget(1));
            assertEquals(err, proc.fdTarget(2));
            assertEquals(run.resolve("full.lock"), proc.fdTarget(fds.last()));

            assertEquals(Map.of("GREETING", "hello world", "PATH", "/usr/bin:/bin", "USER", "nobody", "LOGNAME", "nobody",
                    "HOME", nobody.home(), "SHELL", nobody.shell()), proc.environ(), "exactly env plus the identity");

            assertEquals(result.pid() + "\n", Files.readString(run.resolve("full.pid")));
            assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(run.resolve("full.pid"))));
            assertFalse(Fixture.lockIsFree(run.resolve("full.lock")), "the daemon holds its lock");
            for (Path owned : List.of(out, err, run.resolve("full.pid"), run.resolve("full.lock"))) {
                assertEquals(nobody.uid(), Files.getAttribute(owned, "unix:uid"), owned + " belongs to nobody");
            }
            assertEquals("earlier\n", Files.readString(out), "append keeps what was there");
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(err)), "0644 less umask 027");
            assertEquals("Max open files 1000 2000 files", proc.limit("Max open files"));
            assertEquals("Max core file size 0 0 bytes", proc.limit("Max core file size"));
        } finally {
            stop(result);
        }
        assertTrue(Fixture.lockIsFree(run.resolve("full.lock")), "the lock dies with the daemon");
    }

    @Test
    void writesOutputTruncatingOrAppending() throws Exception {
        Path out = tmp.resolve("out.log");
        Path err = tmp.resolve("err.log");
        Files.writeString(out, "stale\n");
        Files.writeString(err, "stale\n");
        String spec = """
                {"name": "out", "command": ["/bin/sh", "-c", "echo out-$RUN; echo err-$RUN >&2"],
                 "env": {"RUN": "%s"}, "stdout": %s, "stderr": %s, "append": %s}
                """;
        LaunchResult.Started first = started(LAUNCHER.launch(Fixture.resolve(spec.formatted("1", quote(out), quote(err), false))));
        assertEquals(0, first.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS).code());
        assertEquals("out-1\n", Files.readString(out), "truncated");
        assertEquals("err-1\n", Files.readString(err), "truncated");

        LaunchResult.Started second = started(LAUNCHER.launch(Fixture.resolve(spec.formatted("2", quote(out), quote(err), true))));
        assertEquals(0, second.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS).code());
        assertEquals("out-1\nout-2\n", Files.readString(out), "appended");
        assertEquals("err-1\nerr-2\n", Files.readString(err), "appended");
    }

    @Test
    void notifyFdJobIsReadyWhenItWritesANewline() throws Exception {
        Path lock = tmp.resolve("n.lock");
        List<String> sleep = uniqueSleep();
        // fd 4 is the helper's own report pipe number: the job gets it anyway.
        ResolvedJob job = Fixture.resolve("""
                {"name": "notify", "command": ["/bin/sh", "-c", "echo ready >&$BLIVET_NOTIFY_FD; exec %s"],
                 "readiness": "notify-fd", "notify_fd": 4, "lockfile": %s}
                """.formatted(String.join(" ", sleep), quote(lock)));
        LaunchResult.Started result = started(LAUNCHER.launch(job));
        try {
            Proc proc = new Proc(result.pid());
            Await.until(WAIT, () -> proc.cmdline().equals(sleep), "the shell to exec sleep");
            assertEquals("4", proc.environ().get("BLIVET_NOTIFY_FD"));
            // Right after the exec the dynamic loader still holds the C library open for a moment:
            // what stays is what the job was given (a leaked fd would stay past the deadline).
            try {
                Await.until(WAIT, () -> proc.fds().size() == 5, "the job's fds to settle");
            } catch (AssertionError e) {
                // the assertions below say what is open
            }
            TreeSet<Integer> fds = proc.fds();
            assertTrue(fds.contains(4), "the notify fd stays with the job: " + fds);
            assertEquals(5, fds.size(), () -> "0-2, the notify fd and the lock: " + describe(proc, fds));
            assertTrue(proc.fdTarget(4).toString().startsWith("pipe:"), "fd 4 is the notify pipe");
        } finally {
            stop(result);
        }
    }

    @Test
    void sdNotifyJobIsReadyOnReadyAndKeepsItsStatus() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "python3 sends the datagram");
        String user = Fixture.isRoot() ? ", \"user\": \"nobody\"" : "";
        ResolvedJob job = Fixture.resolve("""
                {"name": "sdnotify", "readiness": "sd-notify" %s, "command": ["/usr/bin/python3", "-c",
                  "import os, socket, time\\ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\\ns.sendto(b'STATUS=warming up\\\\nREADY=1', os.environ['NOTIFY_SOCKET'])\\ntime.sleep(600)"]}
                """.formatted(user));
        LaunchResult.Started result = started(LAUNCHER.launch(job));
        try {
            assertNotNull(result.notifySocket());
            assertEquals("warming up", result.notifySocket().status());
            assertEquals(result.notifySocket().path().toString(), new Proc(result.pid()).environ().get("NOTIFY_SOCKET"));
        } finally {
            stop(result);
            result.notifySocket().close();
        }
        assertFalse(Files.exists(result.notifySocket().path()), "the socket goes with the job");
    }

    @Test
    void lockAlreadyHeldFailsNamingTheHolder() throws Exception {
        Path lock = tmp.resolve("held.lock");
        Path pidfile = tmp.resolve("held.pid");
        List<String> argv = uniqueSleep();
        int fd = Fixture.holdLock(lock);
        try {
            LaunchResult.Failed result = failed(LAUNCHER.launch(Fixture.resolve("""
                    {"name": "held", "command": %s, "lockfile": %s, "pidfile": %s}
                    """.formatted(jsonArray(argv), quote(lock), quote(pidfile)))));
            assertEquals(ExitCode.UNAVAILABLE, result.code());
            assertEquals(69, result.code().code());
            assertEquals("lock conflict: " + lock + " is held by pid " + Proc.self(), result.message());
            assertFalse(Files.exists(pidfile), "no pidfile");
            assertNoProcess(argv);
        } finally {
            Fixture.LIBC.close(fd);
        }
    }

    @Test
    void jobExitingInsideItsGracePeriodIsAFailedStart() throws Exception {
        Path pidfile = tmp.resolve("quitter.pid");
        Path lock = tmp.resolve("quitter.lock");
        LaunchResult.Failed result = failed(LAUNCHER.launch(Fixture.resolve("""
                {"name": "quitter", "command": ["/bin/sh", "-c", "exit 3"], "start_grace": 10,
                 "pidfile": %s, "lockfile": %s}
                """.formatted(quote(pidfile), quote(lock)))));
        assertEquals(ExitCode.JOB_EXITED, result.code());
        assertTrue(result.message().contains("quitter exited within its start grace period of 10 s: exit code 3"),
                result.message());
        assertEquals(3, result.jobExit().code());
        assertFalse(Files.exists(pidfile), "the pidfile of a failed start is removed");
        assertTrue(Fixture.lockIsFree(lock));
    }

    @Test
    void jobSurvivingItsGracePeriodStarts() throws Exception {
        List<String> argv = uniqueSleep();
        LaunchResult.Started result = started(LAUNCHER.launch(Fixture.resolve("""
                {"name": "stayer", "command": %s, "start_grace": 0.3}
                """.formatted(jsonArray(argv)))));
        try {
            assertTrue(Duration.between(result.startedAt(), java.time.Instant.now()).toMillis() >= 300, "waited out the grace period");
            assertTrue(new Proc(result.pid()).exists());
        } finally {
            stop(result);
        }
    }

    @Test
    void readinessTimeoutKillsTheJob() throws Exception {
        Path pidfile = tmp.resolve("slow.pid");
        Path lock = tmp.resolve("slow.lock");
        List<String> argv = uniqueSleep();
        LaunchResult.Failed result = failed(LAUNCHER.launch(Fixture.resolve("""
                {"name": "slow", "command": %s, "readiness": "notify-fd", "ready_timeout": 0.5,
                 "pidfile": %s, "lockfile": %s}
                """.formatted(jsonArray(argv), quote(pidfile), quote(lock)))));
        assertEquals(ExitCode.TIMEOUT, result.code());
        assertTrue(result.message().startsWith("readiness timeout: job slow was not ready within 0.5 s"), result.message());
        assertNoProcess(argv);
        assertFalse(Files.exists(pidfile), "no stale pidfile");
        assertTrue(Fixture.lockIsFree(lock), "no held lock");
    }

    @Test
    void helperDyingMidStartIsAFailedStartWithNothingLeft() throws Exception {
        Path lock = tmp.resolve("mid.lock");
        Path pidfile = tmp.resolve("mid.pid");
        // The daemon-to-be dies writing its pid, the last step before exec: SIGXFSZ under a file
        // size limit of 0, after it took the lock and created the pidfile.
        LaunchResult.Failed result = failed(LAUNCHER.launch(Fixture.resolve("""
                {"name": "midstart", "command": ["/bin/true"], "lockfile": %s, "pidfile": %s,
                 "rlimits": {"fsize": 0, "core": 0}}
                """.formatted(quote(lock), quote(pidfile)))));
        assertEquals(ExitCode.JOB_EXITED, result.code());
        assertTrue(result.message().contains("ended before it reported exec: killed by signal 25 (SIGXFSZ)"), result.message());
        assertTrue(Fixture.lockIsFree(lock), "the lock is free");
        assertFalse(Files.exists(pidfile), "the pidfile it created is removed");
        assertNoProcess(List.of("blivet-spawn", "midstart"));
    }

    /** A FIFO nobody reads would block the open until ready_timeout: the start fails at once instead. */
    @Test
    void aFifoForAnOutputFileFailsTheStartAtOnce() throws Exception {
        Path fifo = tmp.resolve("stdout.fifo");
        List<String> argv = uniqueSleep();
        String spec = """
                {"name": "fifo", "command": %s, "stdout": %s, "readiness": "notify-fd", "ready_timeout": 86400}
                """.formatted(jsonArray(argv), quote(fifo));
        ResolvedJob job = Fixture.resolve(spec); // before the FIFO: one made between validation and start
        assertEquals(0, Fixture.LIBC.mkfifo(fifo.toString(), 0666));
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(dev.blivet.common.SpecException.class,
                () -> Fixture.resolve(spec)).getMessage().contains("is not a regular file"), "validation sees it too");
        LaunchResult.Failed result = failed(CompletableFuture.supplyAsync(() -> LAUNCHER.launch(job))
                .get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(ExitCode.CANT_CREATE, result.code());
        assertEquals("cannot create output file: " + fifo + ": not a regular file", result.message());
        assertNoProcess(argv);
    }

    /**
     * Attack 2 of issue 8: between validation and start, nobody swaps a directory of its job's
     * paths for a symlink to a root-only directory. Nothing there is touched.
     */
    @Test
    void aDirectorySwappedForASymlinkAfterValidationLeadsNowhere() throws Exception {
        assumeTrue(Fixture.isRoot(), "root starts a job for nobody");
        Account nobody = new NativeAccounts().user("nobody").orElseThrow();
        Path rootOnly = Files.createDirectories(tmp.resolve("root-only"));
        Files.setPosixFilePermissions(rootOnly, PosixFilePermissions.fromString("rwx------"));
        Path secret = Files.writeString(rootOnly.resolve("out.log"), "root's data\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Path nobodys = ownedBy(nobody, Files.createDirectories(tmp.resolve("nobodys")));
        Path run = ownedBy(nobody, Files.createDirectories(nobodys.resolve("run")));
        List<String> argv = uniqueSleep();
        ResolvedJob job = Fixture.resolve("""
                {"name": "swapped", "user": "nobody", "command": %s, "stdout": %s, "pidfile": %s}
                """.formatted(jsonArray(argv), quote(run.resolve("out.log")), quote(run.resolve("swapped.pid"))));

        Files.delete(run);
        Files.createSymbolicLink(run, rootOnly);
        LaunchResult.Failed result = failed(LAUNCHER.launch(job));
        assertEquals(ExitCode.CANT_CREATE, result.code());
        assertEquals("cannot create output file: " + run.resolve("out.log") + ": a component of the path is a symbolic"
                + " link, which blivet never follows; name the real path", result.message());
        assertEquals("root's data\n", Files.readString(secret), "not truncated");
        assertEquals(0, Files.getAttribute(secret, "unix:uid"), "not chowned");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
        try (var files = Files.list(rootOnly)) {
            assertEquals(List.of(secret), files.toList(), "nothing created in the root-only directory");
        }
        assertNoProcess(argv);
    }

    private static Path ownedBy(Account account, Path path) throws IOException {
        Files.setAttribute(path, "unix:uid", account.uid());
        Files.setAttribute(path, "unix:gid", account.gid());
        return path;
    }

    @Test
    void unwritablePidfileDirectoryFailsInTheHelperWithNothingLeft() throws Exception {
        assumeTrue(Fixture.isRoot(), "root writes anywhere but into an immutable directory");
        Path locked = Files.createDirectories(tmp.resolve("immutable"));
        Path lock = tmp.resolve("imm.lock");
        List<String> argv = uniqueSleep();
        chattr("+i", locked);
        try {
            // Validation catches it up front ...
            dev.blivet.common.SpecException early = org.junit.jupiter.api.Assertions.assertThrows(
                    dev.blivet.common.SpecException.class, () -> Fixture.resolve("""
                            {"name": "imm", "command": %s, "pidfile": %s}
                            """.formatted(jsonArray(argv), quote(locked.resolve("imm.pid")))));
            assertEquals(ExitCode.CANT_CREATE, early.code());
            // EPERM, as the helper will say too: an immutable directory is no permission problem of its mode.
            assertTrue(early.getMessage().contains("directory " + locked + ": operation not permitted"), early.getMessage());

            // ... and the helper too, when the directory changes between validation and start.
            ResolvedJob ok = Fixture.resolve("""
                    {"name": "imm", "command": %s, "pidfile": %s, "lockfile": %s}
                    """.formatted(jsonArray(argv), quote(tmp.resolve("imm.pid")), quote(lock)));
            ResolvedJob raced = Fixture.withPidfile(ok, locked.resolve("imm.pid").toString());
            LaunchResult.Failed result = failed(LAUNCHER.launch(raced));
            assertEquals(ExitCode.CANT_CREATE, result.code());
            assertEquals(73, result.code().code());
            assertEquals("cannot create pidfile: " + locked.resolve("imm.pid") + ": Operation not permitted", result.message());
            assertNoProcess(argv);
            assertTrue(Fixture.lockIsFree(lock));
        } finally {
            chattr("-i", locked);
        }
    }

    /** chattr runs as a job: this JVM's reaper owns every child, so ProcessBuilder is out. */
    private static void chattr(String flag, Path dir) throws Exception {
        LaunchResult.Started job = started(LAUNCHER.launch(Fixture.resolve("""
                {"name": "chattr", "command": ["chattr", %s, %s]}
                """.formatted(quote(flag), quote(dir)))));
        assertEquals(0, job.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS).code(), "chattr " + flag + " " + dir);
    }

    /** A hardlink someone made to root's file, where a root job's output goes: root's file stays as it was. */
    @Test
    void aRootJobNeverWritesThroughAHardlink() throws Exception {
        Path precious = tmp.resolve("precious");
        Files.writeString(precious, "root's data\n");
        Path planted = tmp.resolve("out.log");
        List<String> argv = uniqueSleep();
        String spec = """
                {"name": "planted", "stdout": %s, "command": %s}
                """.formatted(quote(planted), jsonArray(argv));
        ResolvedJob job = Fixture.resolve(spec); // validation would refuse the link: it is planted after it
        Files.createLink(planted, precious); // what a user could do in a directory it can write to
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(dev.blivet.common.SpecException.class,
                () -> Fixture.resolve(spec)).getMessage().contains("has 2 hard links"), "validation sees it too");
        LaunchResult.Failed result = failed(LAUNCHER.launch(job));
        assertEquals(ExitCode.CANT_CREATE, result.code());
        assertEquals("cannot create output file: " + planted + ": has 2 hard links; blivet uses an existing file only with one",
                result.message());
        assertEquals("root's data\n", Files.readString(precious), "not truncated");
        assertNoProcess(argv);
    }

    @Test
    void orphansOfJobsAreReaped() throws Exception {
        List<String> orphan = List.of("/bin/sleep", "0.3" + UNIQUE.incrementAndGet());
        LaunchResult.Started result = started(LAUNCHER.launch(Fixture.resolve("""
                {"name": "parent", "command": ["/bin/sh", "-c", "%s & exit 0"]}
                """.formatted(String.join(" ", orphan)))));
        assertEquals(0, result.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS).code());
        assertNoProcess(orphan);
        Await.until(WAIT, () -> Proc.zombieChildren().isEmpty(), "no zombies: " + Proc.zombieChildren());
    }

    /**
     * The boot-time dry run makes the helper's fds and file actions, then undoes them: nothing runs,
     * nothing stays open. Other tests' launches in this JVM may still close or open an fd or two
     * meanwhile (a pidfd, a report pipe), so the check is by scale: a dry run that kept even one
     * fd would leave 50 more.
     */
    @Test
    void aDryRunStartsNothingAndLeavesNoFd() throws Exception {
        LAUNCHER.dryRun(Fixture.resolve("{\"name\": \"dry\", \"command\": " + jsonArray(uniqueSleep()) + "}"));
        TreeSet<Integer> before = new Proc(Proc.self()).fds();
        long children = ProcessHandle.current().children().count();
        for (int i = 0; i < 50; i++) {
            LAUNCHER.dryRun(Fixture.resolve("{\"name\": \"dry\", \"command\": " + jsonArray(uniqueSleep()) + "}"));
        }
        TreeSet<Integer> after = new Proc(Proc.self()).fds();
        assertTrue(after.size() <= before.size() + 2, "blivetd's fds after 50 dry runs: " + after + ", before: " + before);
        assertEquals(children, ProcessHandle.current().children().count(), "no process was spawned");
    }

    /** Every spawn copies blivetd's fd table and the helper closes it: running jobs must not grow it. */
    @Test
    void runningExecJobsKeepNoFdOfBlivetdOpen() throws Exception {
        stop(started(LAUNCHER.launch(Fixture.resolve("{\"name\": \"warm\", \"command\": " + jsonArray(uniqueSleep()) + "}"))));
        // By number and target: an fd that an earlier test's tail (a reaped pidfd) closes meanwhile
        // is no leak, and a count would take it for one hiding another.
        Map<Integer, Path> before = new Proc(Proc.self()).fdTable();
        List<LaunchResult.Started> running = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                running.add(started(LAUNCHER.launch(Fixture.resolve("{\"name\": \"fd%d\", \"command\": %s}"
                        .formatted(i, jsonArray(uniqueSleep()))))));
            }
            Map<Integer, Path> opened = new Proc(Proc.self()).fdTable();
            opened.entrySet().removeIf(fd -> fd.getValue().equals(before.get(fd.getKey())));
            assertEquals(Map.of(), opened, "fds blivetd opened and kept with 5 more jobs running");
        } finally {
            for (LaunchResult.Started job : running) {
                stop(job);
            }
        }
    }

    /**
     * The supervisor records a start while the launch prepares it: nothing is spawned before the
     * record (a crash must find it), whatever else the launch loops do meanwhile, and a start
     * that cannot be recorded spawns nothing at all.
     */
    @Test
    void aLaunchUntilRecordedSpawnsNothingBeforeItsRecordAndNothingWithout() throws Exception {
        List<String> gatedArgv = uniqueSleep();
        Path pidfile = tmp.resolve("gated.pid");
        LaunchCancel gate = LaunchCancel.untilRecorded();
        CompletableFuture<LaunchResult> gated = LAUNCHER.launch(Fixture.resolve("""
                {"name": "gated", "command": %s, "pidfile": %s}
                """.formatted(jsonArray(gatedArgv), quote(pidfile))), gate);
        // Later launches on every launch loop run to the end: the gated one was prepared, not spawned.
        for (int i = 0; i < 4; i++) {
            stop(started(LAUNCHER.launch(Fixture.resolve("{\"name\": \"other%d\", \"command\": %s}"
                    .formatted(i, jsonArray(uniqueSleep()))))));
        }
        assertFalse(gated.isDone(), "no answer before the record");
        assertTrue(Proc.findByCmdline(gatedArgv).isEmpty() && Files.notExists(pidfile), "nothing spawned before the record");
        gate.recorded();
        stop(started(gated.get(WAIT.toSeconds(), TimeUnit.SECONDS)));

        List<String> refusedArgv = uniqueSleep();
        LaunchCancel refusal = LaunchCancel.untilRecorded();
        CompletableFuture<LaunchResult> refused = LAUNCHER.launch(Fixture.resolve("""
                {"name": "unrecorded", "command": %s}
                """.formatted(jsonArray(refusedArgv))), refusal);
        refusal.notRecorded("cannot record the start of job unrecorded in the ledger: No space left on device");
        LaunchResult.Failed result = failed(refused.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(ExitCode.OS_ERROR, result.code());
        assertEquals("os error: cannot record the start of job unrecorded in the ledger: No space left on device",
                result.message());
        assertTrue(Proc.findByCmdline(refusedArgv).isEmpty(), "nothing spawned without a record");
    }

    @Test
    void stopDuringReadinessCancelsTheStartAtOnceWithNothingLeft() throws Exception {
        Path pidfile = tmp.resolve("cancelled.pid");
        Path lock = tmp.resolve("cancelled.lock");
        List<String> argv = uniqueSleep();
        LaunchCancel cancel = new LaunchCancel();
        CompletableFuture<LaunchResult> launch = LAUNCHER.launch(Fixture.resolve("""
                {"name": "cancelled", "command": %s, "readiness": "notify-fd", "ready_timeout": 3600,
                 "pidfile": %s, "lockfile": %s}
                """.formatted(jsonArray(argv), quote(pidfile), quote(lock))), cancel);
        Await.until(WAIT, () -> !Proc.findByCmdline(argv).isEmpty() && Files.exists(pidfile), "the job to run, not yet ready");
        assertFalse(launch.isDone(), "a job that never writes its newline is not ready");
        cancel.cancel();
        LaunchResult.Failed result = failed(launch.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(ExitCode.JOB_EXITED, result.code());
        assertEquals("start cancelled: job cancelled was stopped while it was starting", result.message());
        assertNoProcess(argv);
        assertFalse(Files.exists(pidfile), "no stale pidfile");
        assertTrue(Fixture.lockIsFree(lock), "no held lock");
    }

    /** Waiting for readiness costs no thread: a start behind many pending ones is not delayed by them. */
    @Test
    void pendingStartsShareOneThreadAndDelayNoOtherStart() throws Exception {
        List<LaunchCancel> cancels = new java.util.ArrayList<>();
        List<CompletableFuture<LaunchResult>> pending = new java.util.ArrayList<>();
        List<List<String>> argvs = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) {
            List<String> argv = uniqueSleep();
            argvs.add(argv);
            LaunchCancel cancel = new LaunchCancel();
            cancels.add(cancel);
            pending.add(LAUNCHER.launch(Fixture.resolve("""
                    {"name": "never%d", "command": %s, "readiness": "notify-fd", "ready_timeout": 3600}
                    """.formatted(i, jsonArray(argv))), cancel));
        }
        try {
            for (List<String> argv : argvs) {
                Await.until(WAIT, () -> !Proc.findByCmdline(argv).isEmpty(), "never-ready job " + argv + " to run");
            }
            LaunchResult.Started quick = started(LAUNCHER.launch(Fixture.resolve(
                    "{\"name\": \"quick\", \"command\": " + jsonArray(uniqueSleep()) + "}")));
            stop(quick);
            assertTrue(pending.stream().noneMatch(CompletableFuture::isDone), "the never-ready starts still wait");
            long launchThreads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("blivet-launch")).count();
            assertEquals(Math.min(Launcher.MAX_LOOPS, Runtime.getRuntime().availableProcessors()), launchThreads,
                    "every pending start waits on the launch loops made with the launcher, one per core at most");
        } finally {
            cancels.forEach(LaunchCancel::cancel);
        }
        for (CompletableFuture<LaunchResult> launch : pending) {
            assertEquals(ExitCode.JOB_EXITED, failed(launch.get(WAIT.toSeconds(), TimeUnit.SECONDS)).code());
        }
        for (List<String> argv : argvs) {
            assertNoProcess(argv);
        }
    }

    /** Each fd with what it points to, for a failure's message. */
    private static String describe(Proc proc, TreeSet<Integer> fds) {
        StringBuilder text = new StringBuilder();
        for (int fd : fds) {
            String target;
            try {
                target = proc.fdTarget(fd).toString();
            } catch (RuntimeException e) {
                target = "? (" + e.getMessage() + ")";
            }
            text.append(fd).append(" -> ").append(target).append("; ");
        }
        return text.toString();
    }
}
