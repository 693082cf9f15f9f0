package dev.blivet.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.blivet.daemon.testing.Await;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Debian package that mvn package built, installed on this (throw-away, root) machine as an
 * operator would: dpkg -i, the installed blivetctl and man pages, the installed blivetd on a private
 * socket running a job through the installed blivetctl, the class-data sharing archives following
 * the JDK, and a purge that leaves nothing behind. The methods run in order on one installation.
 *
 * <p>What it changes on the machine is put back: the service is kept from starting (policy-rc.d,
 * as Debian's build chroots do), an existing /var/lib/blivetd (a root quick start's state, which a
 * purge removes) is moved aside and restored, and the package is purged even after a failure. It
 * refuses to run where blivet is installed already, rather than purge someone's installation.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PackageInstallIT {
    private static final String PACKAGE = "blivet";
    private static final Path CTL = Path.of("/usr/bin/blivetctl");
    private static final Path DAEMON = Path.of("/usr/sbin/blivetd");
    private static final Path CACHE = Path.of("/var/cache/blivet");
    private static final Path STATE = Path.of("/var/lib/blivetd");
    private static final Path POLICY = Path.of("/usr/sbin/policy-rc.d");
    /** Every path the package or its scripts make; none may remain after a purge. */
    private static final List<Path> OWNED = List.of(Path.of("/usr/lib/blivet"), CTL, DAEMON, CACHE, STATE,
            Path.of("/etc/blivetd"), Path.of("/lib/systemd/system/blivetd.service"),
            Path.of("/lib/systemd/system/blivetd.socket"),
            Path.of("/usr/lib/tmpfiles.d/blivetd.conf"), Path.of("/usr/lib/sysusers.d/blivetd.conf"),
            Path.of("/usr/share/doc/blivet"), Path.of("/usr/share/man/man1/blivetctl.1.gz"),
            Path.of("/usr/share/man/man8/blivetd.8.gz"), Path.of("/usr/share/man/man5/blivet-job.5.gz"),
            Path.of("/usr/share/bash-completion/completions/blivetctl"), Path.of("/run/blivetd"));
    /** dpkg -i includes making both archives (two training runs); generous for a loaded machine. */
    private static final Duration DPKG = Duration.ofMinutes(5);
    private static final Duration COMMAND = Duration.ofMinutes(2);

    private static FileChannel lockFile;
    private static FileLock lock;
    private static Path tmp;
    private static Path stateBackup;
    private static boolean policyCreated;
    private static boolean etcExisted;
    /** A root blivetd started by hand (README's quick start) may have its socket there. */
    private static boolean runExisted;

    record Result(int exit, String out, String err) {
        String all() {
            return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    @BeforeAll
    static void prepare() throws Exception {
        assertEquals("0", run(COMMAND, "id", "-u").out.strip(), "installing a package needs root");
        // Two worktrees' builds on one machine take turns: dpkg does not wait for its lock.
        lockFile = FileChannel.open(Path.of("/run/lock/blivet-package-test.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        lock = lockFile.lock();
        Result status = run(COMMAND, "dpkg-query", "-W", "-f=${Status}", PACKAGE);
        if (status.out.contains("installed") && !status.out.contains("not-installed")) {
            fail("package " + PACKAGE + " is installed on this machine (" + status.out + "); this test installs "
                    + "and purges its own build: dpkg --purge " + PACKAGE + " first");
        }
        tmp = Files.createTempDirectory("blivet-package-");
        etcExisted = Files.exists(Path.of("/etc/blivetd"), LinkOption.NOFOLLOW_LINKS);
        runExisted = Files.exists(Path.of("/run/blivetd"), LinkOption.NOFOLLOW_LINKS);
        if (Files.exists(STATE, LinkOption.NOFOLLOW_LINKS)) {
            stateBackup = tmp.resolveSibling(tmp.getFileName() + "-var-lib-blivetd");
            Files.move(STATE, stateBackup);
        }
        if (!Files.exists(POLICY, LinkOption.NOFOLLOW_LINKS)) {
            Files.writeString(POLICY, "#!/bin/sh\n# PackageInstallIT: no service starts while it runs\nexit 101\n");
            Files.setPosixFilePermissions(POLICY, PosixFilePermissions.fromString("rwxr-xr-x"));
            policyCreated = true;
        }
    }

    @AfterAll
    static void restore() throws Exception {
        try {
            if (installed()) {
                run(DPKG, "dpkg", "--purge", PACKAGE);
            }
        } finally {
            if (policyCreated) {
                Files.deleteIfExists(POLICY);
            }
            if (stateBackup != null) {
                run(COMMAND, "rm", "-rf", STATE.toString());
                Files.move(stateBackup, STATE);
            }
            if (tmp != null) {
                run(COMMAND, "rm", "-rf", tmp.toString());
            }
            if (lock != null) {
                lock.release();
                lockFile.close();
            }
        }
    }

    @Test
    @Order(1)
    void installsTheFhsLayoutWithManPagesAndArchives() throws Exception {
        Path deb = builtPackage();
        // Slim images tell dpkg to leave out man pages and docs (path-exclude); these are tested.
        Result install = runNoninteractive(DPKG, "dpkg", "--path-include=/usr/share/man/*",
                "--path-include=/usr/share/doc/blivet/*", "-i", deb.toString());
        if (install.exit != 0) {
            // Only for dependencies this machine lacks (a Java runtime): apt-get resolves them.
            Result fix = runNoninteractive(DPKG, "apt-get", "install", "-f", "-y", "-q");
            assertEquals(0, fix.exit, "dpkg -i failed and apt-get install -f could not fix it:\n" + install.all()
                    + "\n" + fix.all());
        }
        assertTrue(installed(), "dpkg -i " + deb + ":\n" + install.all());

        Result version = run(COMMAND, CTL.toString(), "--version");
        assertEquals(0, version.exit, version.all());
        assertTrue(version.out.startsWith("blivetctl "), version.all());
        assertEquals("", version.err, "a fresh install starts with valid archives, silently");

        for (String[] page : new String[][] {{"1", "blivetctl"}, {"8", "blivetd"}, {"5", "blivet-job"}}) {
            Result man = run(COMMAND, "man", "-w", page[0], page[1]);
            assertEquals(0, man.exit, man.all());
            assertEquals("/usr/share/man/man" + page[0] + "/" + page[1] + "." + page[0] + ".gz", man.out.strip());
        }

        // The units as installed, with the installed commands they run (blivetd's SystemdUnitsTest
        // verifies the source with stand-ins).
        Result verify = run(COMMAND, "systemd-analyze", "verify", "--man=no", "/lib/systemd/system/blivetd.socket",
                "/lib/systemd/system/blivetd.service");
        assertEquals(0, verify.exit, verify.all());
        assertEquals("", verify.out + verify.err, verify.all());

        PosixFileAttributes jobs = Files.readAttributes(Path.of("/etc/blivetd/jobs.d"), PosixFileAttributes.class,
                LinkOption.NOFOLLOW_LINKS);
        assertEquals("root", jobs.owner().getName(), "docs/security.md, Rule 5");
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(jobs.permissions()), "docs/security.md, Rule 5");
        assertTrue(Files.isExecutable(Path.of("/usr/lib/blivet/blivetd/blivet-spawn")));
        assertTrue(Files.isExecutable(Path.of("/usr/lib/blivet/blivetd/blivet-keeper")));
        assertTrue(Files.isDirectory(STATE), "postinst makes what tmpfiles.d says");
        assertArchiveInUse();
    }

    @Test
    @Order(2)
    void theInstalledBlivetdRunsAJobForTheInstalledBlivetctl() throws Exception {
        Path socket = tmp.resolve("run/s.sock");
        Path jobsDir = Files.createDirectories(tmp.resolve("jobs"));
        Path log = tmp.resolve("blivetd.log");
        Process daemon = new ProcessBuilder(DAEMON.toString(), "--socket", socket.toString(), "--jobs-dir",
                jobsDir.toString(), "--state-dir", tmp.resolve("state").toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Await.until(Duration.ofSeconds(60), () -> Files.exists(socket) || !daemon.isAlive(),
                    "the installed blivetd to listen on " + socket);
            assertTrue(daemon.isAlive(), () -> "blivetd exited: " + read(log));
            assertJffiStubLoadedFromThePackage(daemon);
            Path out = tmp.resolve("job.out");
            Path spec = Files.writeString(tmp.resolve("hello.json"), "{\"name\":\"hello\",\"command\":[\"/bin/sh\",\"-c\","
                    + "\"echo hello from the package; exec sleep 600\"],\"stdout\":\"" + out + "\"}");

            Result start = ctl(socket, "start", spec.toString());
            assertEquals(0, start.exit, () -> start.all() + "\nblivetd:\n" + read(log));
            Await.until(Duration.ofSeconds(30), () -> read(out).contains("hello from the package"),
                    "the job's output");
            Result logs = ctl(socket, "logs", "hello");
            assertEquals(0, logs.exit, logs.all());
            assertTrue(logs.out.contains("hello from the package"), logs.all());
            Result stop = ctl(socket, "stop", "hello");
            assertEquals(0, stop.exit, stop.all());
            Result status = ctl(socket, "status", "hello");
            assertEquals(3, status.exit, "a stopped job is not running:\n" + status.all());
            // The installed launcher runs the keeper, which starts a new JVM on reexec.
            Result reexec = ctl(socket, "reexec");
            assertEquals(0, reexec.exit, () -> reexec.all() + "\nblivetd:\n" + read(log));
            assertTrue(reexec.out.contains("was pid"), reexec.all());
        } finally {
            daemon.destroy();
            assertTrue(daemon.waitFor(60, TimeUnit.SECONDS), "blivetd did not exit on SIGTERM");
        }
        assertEquals(0, daemon.exitValue(), () -> "blivetd on SIGTERM:\n" + read(log));
    }

    /**
     * A hardened machine mounts /tmp noexec. jffi, left to itself, copies its stub out of its jar
     * into java.io.tmpdir, and if it cannot load it from there, into its working directory: an
     * ordinary user's blivetd, whose working directory is not its own, could not start at all.
     * The package ships the stub unpacked (blivetd/pom.xml, unpack-jffi-stub).
     */
    @Test
    @Order(3)
    void anOrdinaryUsersBlivetdStartsWhenTheTempDirectoryIsNoexec() throws Exception {
        Path noexec = Files.createDirectory(tmp.resolve("noexec"));
        Path home = Files.createDirectory(tmp.resolve("nobody"));
        Path log = tmp.resolve("nobody.log");
        // nobody passes through the test's directory to its own, and reads nothing else there.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
        assertEquals(0, run(COMMAND, "chown", "nobody:nogroup", home.toString()).exit);
        Result mount = run(COMMAND, "mount", "-t", "tmpfs", "-o", "noexec,nosuid,nodev,mode=1777,size=4m", "blivet-noexec",
                noexec.toString());
        assertEquals(0, mount.exit, mount.all());
        try {
            Path socket = home.resolve("s.sock");
            ProcessBuilder builder = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                    DAEMON.toString(), "--socket", socket.toString(), "--jobs-dir", home.resolve("jobs").toString(),
                    "--state-dir", home.resolve("state").toString(), "--cgroups", "off")
                    .directory(Path.of("/").toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
            String tmpdir = "-Djava.io.tmpdir=" + noexec;
            builder.environment().put("JAVA_TOOL_OPTIONS", tmpdir);
            Process daemon = builder.start();
            try {
                Await.until(Duration.ofSeconds(60), () -> Files.exists(socket) || !daemon.isAlive(),
                        "nobody's blivetd to listen on " + socket);
                assertTrue(daemon.isAlive(), () -> "nobody's blivetd exited:\n" + read(log));
                assertTrue(read(log).contains("Picked up JAVA_TOOL_OPTIONS: " + tmpdir),
                        () -> "the JVM was not given the noexec directory:\n" + read(log));
                assertJffiStubLoadedFromThePackage(daemon);
                Result status = run(COMMAND, "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        CTL.toString(), "--socket", socket.toString(), "status");
                assertEquals(0, status.exit, () -> status.all() + "\nblivetd:\n" + read(log));
                try (Stream<Path> left = Files.list(noexec)) {
                    assertEquals(List.of(), left.toList(), "nothing copied into java.io.tmpdir");
                }
            } finally {
                daemon.destroy();
                if (!daemon.waitFor(60, TimeUnit.SECONDS)) {
                    daemon.descendants().forEach(ProcessHandle::destroyForcibly);
                    daemon.destroyForcibly();
                    fail("nobody's blivetd did not exit on SIGTERM:\n" + read(log));
                }
            }
        } finally {
            if (run(COMMAND, "umount", noexec.toString()).exit != 0) {
                run(COMMAND, "umount", "-l", noexec.toString());
            }
        }
    }

    @Test
    @Order(4)
    void theArchivesAreMadeAgainWhenTheJdkChanges() throws Exception {
        // A JDK build other than the recorded one: its libjvm.so's mtime differs from the record's.
        Path record = CACHE.resolve("jdk");
        Files.setLastModifiedTime(record, FileTime.fromMillis(Files.getLastModifiedTime(record).toMillis() - 86_400_000));

        Result user = run(COMMAND, "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", CTL.toString(),
                "--version");
        assertEquals(0, user.exit, user.all());
        assertTrue(user.err.contains("the JDK changed") && user.err.contains("as root, run /usr/lib/blivet/update-cds"),
                "a user who cannot remake them is told:\n" + user.all());

        Result root = run(COMMAND, CTL.toString(), "--version");
        assertEquals(0, root.exit, root.all());
        assertTrue(root.err.contains("making them again"), root.all());
        assertArchiveInUse();

        // What dpkg does when a JDK package changes /usr/lib/jvm: the trigger makes them again.
        Files.delete(CACHE.resolve("blivetctl.jsa"));
        Result trigger = run(COMMAND, "dpkg-trigger", "--no-await", "/usr/lib/jvm");
        assertEquals(0, trigger.exit, trigger.all());
        Result process = run(DPKG, "dpkg", "--triggers-only", PACKAGE);
        assertEquals(0, process.exit, process.all());
        assertArchiveInUse();
    }

    @Test
    @Order(5)
    void aPurgeLeavesNothingBehind() throws Exception {
        Result purge = run(DPKG, "dpkg", "--purge", PACKAGE);
        assertEquals(0, purge.exit, purge.all());
        assertFalse(installed());
        List<Path> left = new ArrayList<>();
        for (Path path : OWNED) {
            if ((path.startsWith("/etc/blivetd") && etcExisted) || (path.startsWith("/run/blivetd") && runExisted)) {
                continue;
            }
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                left.add(path);
            }
        }
        assertEquals(List.of(), left, "left behind by dpkg --purge:\n" + purge.all());
    }

    /**
     * The JVM under the keeper maps jffi's stub from the package's jffi directory: not a copy
     * jffi made of it at start-up in /tmp or in its working directory.
     */
    private static void assertJffiStubLoadedFromThePackage(Process launcher) throws IOException {
        ProcessHandle jvm = ProcessHandle.of(launcher.pid()).orElseThrow().children()
                .filter(child -> child.info().command().map(command -> command.endsWith("/java")).orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("no JVM under the keeper, pid " + launcher.pid()));
        List<String> stubs = Files.readAllLines(Path.of("/proc", Long.toString(jvm.pid()), "maps")).stream()
                .filter(line -> line.contains("libjffi") || line.contains("/jffi")).map(line -> line.substring(line.indexOf('/')))
                .distinct().toList();
        assertEquals(List.of("/usr/lib/blivet/jffi/" + jffiPlatform() + "/libjffi-1.2.so"), stubs);
    }

    /** jffi's name for this machine's directory. */
    private static String jffiPlatform() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64-Linux";
            case "aarch64" -> "aarch64-Linux";
            default -> throw new AssertionError("the package ships jffi's stub for x86_64 and aarch64 only, not "
                    + System.getProperty("os.arch"));
        };
    }

    private static void assertArchiveInUse() throws Exception {
        Result verbose = run(COMMAND, CTL.toString(), "version", "--verbose", "--socket", tmp.resolve("none.sock").toString());
        assertTrue(verbose.out.contains("class-data sharing: in use: " + CACHE.resolve("blivetctl.jsa")),
                "the installed blivetctl maps its archive:\n" + verbose.all());
        assertTrue(Files.isRegularFile(CACHE.resolve("blivetd.jsa")), "blivetd's archive");
    }

    private static Result ctl(Path socket, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(CTL.toString(), "--socket", socket.toString()));
        command.addAll(List.of(args));
        return run(COMMAND, command.toArray(String[]::new));
    }

    private static Path builtPackage() throws IOException {
        Path dir = Path.of(System.getProperty("blivet.debDirectory", "target"));
        try (Stream<Path> files = Files.list(dir)) {
            // The newest: a build without clean keeps the packages of earlier versions.
            return files.filter(f -> f.getFileName().toString().matches("blivet_.*\\.deb"))
                    .max(Comparator.comparing(f -> f.toFile().lastModified()))
                    .orElseThrow(() -> new AssertionError("no blivet_*.deb in " + dir + ": mvn package builds it"));
        }
    }

    private static boolean installed() throws Exception {
        Result status = run(COMMAND, "dpkg-query", "-W", "-f=${Status}", PACKAGE);
        return status.exit == 0 && status.out.equals("install ok installed");
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static Result run(Duration limit, String... command) throws Exception {
        return run(limit, false, command);
    }

    /** dpkg and apt-get, which must never stop to ask. */
    private static Result runNoninteractive(Duration limit, String... command) throws Exception {
        return run(limit, true, command);
    }

    private static Result run(Duration limit, boolean noninteractive, String... command) throws Exception {
        Path out = Files.createTempFile("blivet-package-out", "");
        Path err = Files.createTempFile("blivet-package-err", "");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            if (noninteractive) {
                builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
            }
            Process process = builder.start();
            if (!process.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail(String.join(" ", command) + " did not end within " + limit.toSeconds() + " s");
            }
            return new Result(process.exitValue(), read(out), read(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
