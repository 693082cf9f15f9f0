package dev.blivet.daemon.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.blivet.common.Account;
import dev.blivet.common.NativeAccounts;
import dev.blivet.daemon.testing.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trusted-path rule inside blivet-spawn, attacked as a local user would: symlinked
 * directories, files planted in a sticky directory, FIFOs, hardlinks, directories the job's user
 * may not write. Every case runs twice: with openat2 and with the component-by-component walk
 * that kernels before 5.6 get ("resolve=walk"), which must give the same answers. Root runs the
 * helper, as blivetd does; "nobody" plays the job's user and the attacker.
 */
class HelperTrustedPathTest {
    private static final String SYMLINK = "a component of the path is a symbolic link, which blivet never follows;"
            + " name the real path";

    @TempDir
    Path tmp;
    private Account nobody;

    @BeforeEach
    void asRootWithNobody() throws IOException {
        assumeTrue("0".equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid").toString()),
                "CI runs as root: the helper opens files for other users only as root");
        nobody = new NativeAccounts().user("nobody").orElseThrow();
        // nobody must reach what the tests give it below the temp dir.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private HelperRun run(String resolve, String... records) throws Exception {
        List<String> plan = new ArrayList<>(List.of("resolve=" + resolve));
        plan.addAll(List.of(records));
        return HelperRun.run(tmp, plan);
    }

    private HelperRun runAsNobody(String resolve, String... records) throws Exception {
        List<String> plan = new ArrayList<>(List.of("uid=" + nobody.uid(), "gid=" + nobody.gid(), "group=" + nobody.gid()));
        plan.addAll(List.of(records));
        return run(resolve, plan.toArray(String[]::new));
    }

    private Path ownedByNobody(Path path) throws IOException {
        Files.setAttribute(path, "unix:uid", nobody.uid());
        Files.setAttribute(path, "unix:gid", nobody.gid());
        return path;
    }

    private record Snapshot(String content, Object uid, String mode, long links) {
        static Snapshot of(Path file) throws IOException {
            return new Snapshot(Files.readString(file), Files.getAttribute(file, "unix:uid"),
                    PosixFilePermissions.toString(Files.getPosixFilePermissions(file)),
                    ((Number) Files.getAttribute(file, "unix:nlink")).longValue());
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().toList();
        }
    }

    /** Attack 2 of issue 8: nobody swaps a directory of its job's paths for a symlink to a root-only one. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"openat2", "walk"})
    void aSymlinkedDirectoryNeverLeadsANobodyJobIntoRootsFiles(String resolve) throws Exception {
        Path rootOnly = Files.createDirectory(tmp.resolve("root-only"));
        Files.setPosixFilePermissions(rootOnly, PosixFilePermissions.fromString("rwx------"));
        Path secret = Files.writeString(rootOnly.resolve("secret"), "root's data\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Snapshot before = Snapshot.of(secret);
        Path nobodys = ownedByNobody(Files.createDirectory(tmp.resolve("nobodys")));
        Path swapped = Files.createSymbolicLink(nobodys.resolve("run"), rootOnly);

        assertEquals("E73 cannot create output file: " + swapped.resolve("secret") + ": " + SYMLINK,
                runAsNobody(resolve, "exec=/bin/true", "arg=true", "chdir=/", "stdout=" + swapped.resolve("secret"))
                        .awaitError());
        assertEquals("E73 cannot create pidfile: " + swapped.resolve("job.pid") + ": " + SYMLINK,
                runAsNobody(resolve, "exec=/bin/true", "arg=true", "chdir=/", "pidfile=" + swapped.resolve("job.pid"))
                        .awaitError());
        assertEquals("E73 cannot create lockfile: " + swapped.resolve("job.lock") + ": " + SYMLINK,
                runAsNobody(resolve, "exec=/bin/true", "arg=true", "chdir=/", "lockfile=" + swapped.resolve("job.lock"))
                        .awaitError());
        // The last component too, for a root job: no symlink anywhere, whoever planted it.
        Path planted = Files.createSymbolicLink(tmp.resolve("out.log"), secret);
        assertEquals("E73 cannot create output file: " + planted + ": " + SYMLINK,
                run(resolve, "exec=/bin/true", "arg=true", "chdir=/", "stdout=" + planted).awaitError());

        assertEquals(before, Snapshot.of(secret), "root's file: not truncated, chowned or chmodded");
        assertEquals(List.of(secret), list(rootOnly), "nothing created in the root-only directory");
    }

    /** Attack 3: a root job's files named where another user got there first. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"openat2", "walk"})
    void aRootJobNeverUsesAFileAnotherUserPlanted(String resolve) throws Exception {
        Path sticky = Files.createDirectory(tmp.resolve("sticky"));
        Files.setAttribute(sticky, "unix:mode", 01777);
        Path planted = ownedByNobody(Files.writeString(sticky.resolve("planted"), "nobody's\n"));
        Snapshot before = Snapshot.of(planted);

        for (String key : List.of("stdout", "pidfile", "lockfile")) {
            String what = key.equals("stdout") ? "output file" : key;
            assertEquals("E73 cannot create " + what + ": " + planted + ": belongs to uid " + nobody.uid()
                            + ", not to the job's user (uid 0); blivet uses an existing file only if it does",
                    run(resolve, "exec=/bin/true", "arg=true", "chdir=/", key + "=" + planted).awaitError(), key);
        }
        assertEquals(before, Snapshot.of(planted), "nobody's file untouched");
    }

    /** A FIFO would stall the start until ready_timeout: it is refused at once, read or not. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"openat2", "walk"})
    void aPlantedFifoIsRefusedAtOnce(String resolve) throws Exception {
        Path fifo = tmp.resolve("out.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", "-m", "0666", fifo.toString()).inheritIO().start();
        assertTrue(mkfifo.waitFor(HelperRun.WAIT.toSeconds(), TimeUnit.SECONDS) && mkfifo.exitValue() == 0, "mkfifo");
        // Without O_NONBLOCK the open would block for as long as nobody reads: awaitLine would time out.
        assertEquals("E73 cannot create output file: " + fifo + ": not a regular file",
                run(resolve, "exec=/bin/true", "arg=true", "chdir=/", "stdout=" + fifo).awaitError());
        assertEquals("E73 cannot create pidfile: " + fifo + ": not a regular file",
                run(resolve, "exec=/bin/true", "arg=true", "chdir=/", "pidfile=" + fifo).awaitError());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"openat2", "walk"})
    void aHardlinkIsRefusedEvenToTheJobsOwnFile(String resolve) throws Exception {
        Path precious = Files.writeString(tmp.resolve("precious"), "root's data\n");
        Path link = Files.createLink(tmp.resolve("out.log"), precious);
        Snapshot before = Snapshot.of(precious);
        assertEquals("E73 cannot create output file: " + link + ": has 2 hard links; blivet uses an existing file only with one",
                run(resolve, "exec=/bin/true", "arg=true", "chdir=/", "stdout=" + link).awaitError());
        assertEquals(before, Snapshot.of(precious), "not truncated");
    }

    /** Root no longer creates files for another user where that user could not: it says what to do instead. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"openat2", "walk"})
    void aNobodyJobCannotHaveRootCreateItsPidfileInRootsDirectory(String resolve) throws Exception {
        Path run = Files.createDirectory(tmp.resolve("run"));
        Path pidfile = run.resolve("job.pid");
        assertEquals("E73 cannot create pidfile: " + pidfile + ": Permission denied to the job's user (uid " + nobody.uid()
                        + "), whose permissions blivet uses for the job's paths; give it a directory of its own"
                        + " (as systemd's RuntimeDirectory= does)",
                runAsNobody(resolve, "exec=/bin/true", "arg=true", "chdir=/", "pidfile=" + pidfile).awaitError());
        assertEquals(List.of(), list(run), "nothing created");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"openat2", "walk"})
    void aNobodyJobGetsItsOwnFilesInItsOwnDirectory(String resolve) throws Exception {
        Path dir = ownedByNobody(Files.createDirectory(tmp.resolve("nobodys")));
        Path out = ownedByNobody(Files.writeString(dir.resolve("out.log"), "stale output\n"));
        Path pidfile = dir.resolve("job.pid");
        Path lock = dir.resolve("job.lock");
        HelperRun run = runAsNobody(resolve, "exec=/bin/sh", "arg=sh", "arg=-c", "arg=echo \"$(id -u) in $(pwd)\"",
                "umask=077", "chdir=" + dir, "stdout=" + out, "stderr=" + dir.resolve("err.log"),
                "pidfile=" + pidfile, "lockfile=" + lock);
        String pid = run.awaitLine("P").substring(1);
        Await.until(HelperRun.WAIT, () -> content(out).endsWith("\n"), "the job's output");

        assertEquals(nobody.uid() + " in " + dir + "\n", content(out), "truncated, then written by the job");
        assertEquals(pid + "\n", content(pidfile));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(pidfile)),
                "0644 whatever the umask: other tools read pidfiles");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(lock)), "0644 less umask 077");
        for (Path file : List.of(out, dir.resolve("err.log"), pidfile, lock)) {
            assertEquals(nobody.uid(), Files.getAttribute(file, "unix:uid"), file + " is nobody's");
            assertEquals(nobody.gid(), Files.getAttribute(file, "unix:gid"), file + " has nobody's group");
        }
        assertTrue(run.text().matches("(?sm).*^I\\d+ " + Files.getAttribute(pidfile, "unix:ino") + "$.*"),
                "the pidfile's identity is reported: " + run.text());
    }

    private static String content(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"openat2", "walk"})
    void chdirAndChrootFollowNoSymlinkAndChdirIsInsideTheChroot(String resolve) throws Exception {
        Path real = Files.createDirectory(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        assertEquals("E71 os error: chdir: " + link + ": " + SYMLINK,
                run(resolve, "exec=/bin/true", "arg=true", "chdir=" + link).awaitError());
        assertEquals("E71 os error: chdir: " + link.resolve("inner") + ": " + SYMLINK,
                run(resolve, "exec=/bin/true", "arg=true", "chdir=" + link.resolve("inner")).awaitError());
        assertEquals("E71 os error: chroot: " + link + ": " + SYMLINK,
                run(resolve, "exec=/bin/true", "arg=true", "chroot=" + link, "chdir=/").awaitError());

        // Inside the chroot: /inner and /prog exist there only, and a symlink there is refused too.
        Files.createDirectory(real.resolve("inner"));
        Files.writeString(real.resolve("prog"), "not a program\n");
        Files.createSymbolicLink(real.resolve("jump"), Path.of("/inner"));
        assertEquals("E77 permission denied: execve /prog: Permission denied (can the job's user search every directory"
                        + " on the way?)",
                run(resolve, "exec=/prog", "arg=prog", "chroot=" + real, "chdir=/inner").awaitError(),
                "chroot and chdir done: only execve is left to fail");
        assertEquals("E71 os error: chdir: /jump: " + SYMLINK,
                run(resolve, "exec=/prog", "arg=prog", "chroot=" + real, "chdir=/jump").awaitError());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"openat2", "walk"})
    void aBareProgramNameIsSearchedInTheJobsPathAsTheJobsUser(String resolve) throws Exception {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        Path out = ownedByNobody(Files.createDirectory(tmp.resolve("out"))).resolve("found");
        String path = "PATH=" + empty + ":/nonexistent:/usr/bin:/bin";
        runAsNobody(resolve, "exec=sh", "arg=sh", "arg=-c", "arg=echo found", "env=" + path, "chdir=/",
                "stdout=" + out).awaitLine("P");
        Await.until(HelperRun.WAIT, () -> content(out).equals("found\n"), "sh found in PATH");

        assertEquals("E66 cannot run program: no-such-program: not found in PATH (" + path.substring(5) + ")",
                run(resolve, "exec=no-such-program", "arg=x", "env=" + path, "chdir=/").awaitError());

        Path bin = Files.createDirectory(tmp.resolve("bin"));
        Files.writeString(bin.resolve("data"), "not executable\n");
        assertEquals("E77 permission denied: data: not executable by the job's user, or in a directory of PATH ("
                        + bin + ":/bin) it may not search",
                run(resolve, "exec=data", "arg=data", "env=PATH=" + bin + ":/bin", "chdir=/").awaitError());

        // Searched after the drop: a program root could run, in a directory only root may search, is not nobody's.
        Path rootOnly = Files.createDirectory(tmp.resolve("root-bin"));
        Files.copy(Path.of("/bin/true"), rootOnly.resolve("mytrue"));
        Files.setPosixFilePermissions(rootOnly, PosixFilePermissions.fromString("rwx------"));
        assertEquals("E77 permission denied: mytrue: not executable by the job's user, or in a directory of PATH ("
                        + rootOnly + ") it may not search",
                runAsNobody(resolve, "exec=mytrue", "arg=mytrue", "env=PATH=" + rootOnly, "chdir=/").awaitError());
    }
}
