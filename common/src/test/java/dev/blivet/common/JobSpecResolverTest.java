package dev.blivet.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every rule of {@link JobSpecResolver}, against the real user and group databases
 * ({@link NativeAccounts}) and real files below a temporary directory, for a root blivetd whoever
 * runs the test: {@link UidOverride} makes blivetd's uid 0 and {@link AsRoot} answers file
 * probes with root's permissions. Debian's {@code nobody} and {@code nogroup} must exist. Only
 * {@link #programExecutableByTheJobsGroup} needs real root (to chgrp a file). The rules for a
 * non-root blivetd use {@link UidOverride} with another uid; a non-root client of a root blivetd
 * gets a probe that fails the test if asked anything ({@link NoProbes}).
 *
 * <p>Specs are written as JSON and parsed by {@link JobSpecJson}, as an operator's would be.
 * Each rejection checks the exit code and that the message names the field, path or user at
 * fault, and (through {@link #rejects}) that nothing else was reported.
 */
class JobSpecResolverTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final NativeAccounts ACCOUNTS = new NativeAccounts();
    /** A root blivetd, whoever runs the test. */
    private static final Accounts ROOT_BLIVETD = new UidOverride(0);
    /** blivetd's own environment, as System.getenv() would hand it over under systemd. */
    private static final Map<String, String> DAEMON_ENV = Map.of(
            "PATH", "/opt/blivetd/bin:/usr/bin",
            "BLIVETD_SECRET", "must-not-leak",
            "USER", "blivetd-user",
            "NOTIFY_SOCKET", "/run/systemd/notify",
            "INVOCATION_ID", "0123456789abcdef");

    @TempDir
    Path tmp;

    /** An executable script below tmp: command[0] of the default spec. */
    private Path app;

    @BeforeEach
    void setUp() throws IOException {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        app = file("bin/app", "rwxr-xr-x");
    }

    // ---- helpers ----

    /** A minimal valid spec. */
    private Map<String, Object> spec() {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("name", "web");
        spec.put("command", List.of(app.toString(), "--serve"));
        return spec;
    }

    private Map<String, Object> spec(String key, Object value) {
        Map<String, Object> spec = spec();
        spec.put(key, value);
        return spec;
    }

    private static Map<String, Object> with(Map<String, Object> spec, String key, Object value) {
        spec.put(key, value);
        return spec;
    }

    private static JobSpec parse(Map<String, Object> spec) {
        try {
            return new JobSpecJson().parse(JSON.writeValueAsString(spec));
        } catch (JsonProcessingException | SpecException e) {
            throw new AssertionError("the test's spec itself does not parse: " + spec, e);
        }
    }

    private ResolvedJob resolve(Map<String, Object> spec) throws SpecException {
        return rootBlivetd().resolve(parse(spec));
    }

    /** A root blivetd over the real files, with root's permissions. */
    private static JobSpecResolver rootBlivetd() {
        return new JobSpecResolver(ROOT_BLIVETD, new AsRoot(), DAEMON_ENV);
    }

    private ResolvedJob resolves(Map<String, Object> spec) {
        try {
            return resolve(spec);
        } catch (SpecException e) {
            throw new AssertionError("expected " + spec + " to resolve, got: " + e.getMessage(), e);
        }
    }

    /** Rejected with exactly one problem, of this code, whose message names every culprit. */
    private SpecException rejects(Map<String, Object> spec, ExitCode code, String... culprits) {
        SpecException e = rejectsWith(spec, code, culprits);
        assertEquals(1, e.problems().size(), () -> "expected exactly one problem: " + e.getMessage());
        return e;
    }

    /** Rejected, the first problem of this code, the whole message naming every culprit. */
    private SpecException rejectsWith(Map<String, Object> spec, ExitCode code, String... culprits) {
        SpecException e = assertThrows(SpecException.class, () -> resolve(spec), () -> "expected a rejection: " + spec);
        assertEquals(code, e.code(), e::getMessage);
        assertEquals(code.code(), e.code().code());
        for (String culprit : culprits) {
            assertTrue(e.getMessage().contains(culprit), () -> "message should name " + culprit + ": " + e.getMessage());
        }
        assertTrue(e.getMessage().startsWith(code.kind() + ": "), () -> "message should start with its kind: "
                + e.getMessage());
        return e;
    }

    private Path file(String relative, String perms) throws IOException {
        Path file = tmp.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(perms));
        return file;
    }

    private Path dir(String relative) throws IOException {
        return Files.createDirectories(tmp.resolve(relative));
    }

    private static Map<String, String> envOf(ResolvedJob job) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String entry : job.env()) {
            int eq = entry.indexOf('=');
            assertTrue(eq > 0, () -> "env entry without KEY=: " + entry);
            String previous = env.put(entry.substring(0, eq), entry.substring(eq + 1));
            assertNull(previous, () -> "env key twice: " + entry);
        }
        return env;
    }

    /** What the job gets from its identity: USER, LOGNAME, HOME, SHELL of this user. */
    private static Map<String, String> identityEnv(String user) {
        Account account = ACCOUNTS.user(user).orElseThrow();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("USER", account.name());
        env.put("LOGNAME", account.name());
        env.put("HOME", account.home());
        env.put("SHELL", account.shell());
        return env;
    }

    /** What `id -G user` says: getgrouplist(3) with the user's primary group. */
    private static Set<Integer> idGroups(String user) throws IOException, InterruptedException {
        Process id = new ProcessBuilder("id", "-G", user).redirectErrorStream(true).start();
        String out = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, id.waitFor(), "id -G " + user + ": " + out);
        return Arrays.stream(out.split("\\s+")).map(Integer::valueOf).collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<Integer> set(int[] values) {
        return Arrays.stream(values).boxed().collect(Collectors.toCollection(TreeSet::new));
    }

    // ---- a valid spec and the defaults ----

    @Test
    void minimalSpecGetsTheDefaults() {
        ResolvedJob job = resolves(spec());
        assertEquals("web", job.name());
        assertEquals(app.toString(), job.program());
        assertEquals(List.of(app.toString(), "--serve"), job.argv());
        assertEquals("/", job.chdir());
        assertEquals(0022, job.umask());
        assertEquals(Defaults.UMASK, job.umask());
        assertNull(job.chroot());
        assertNull(job.pidfile());
        assertNull(job.lockfile());
        assertNull(job.stdout());
        assertNull(job.stderr());
        assertFalse(job.append());
        assertNull(job.identity(), "no user and no group: blivetd's own identity");
        assertEquals(List.of(), job.rlimits());
        assertEquals(Readiness.EXEC, job.readiness());
        assertEquals(-1, job.notifyFd());
        assertEquals(Duration.ofSeconds(30), job.readyTimeout());
        assertEquals(Duration.ZERO, job.startGrace());
        assertFalse(job.clientJob());
    }

    /** blivetd's start rehearsal's name: refused to every spec, taken only by the rehearsal's own resolver. */
    @Test
    void theRehearsalsNameIsReservedToBlivetd() throws SpecException {
        SpecException e = rejects(spec("name", ReservedName.REHEARSAL), ExitCode.USAGE, "'" + ReservedName.REHEARSAL + "'",
                "reserved");
        assertEquals(ReservedName.refusal(ReservedName.REHEARSAL), e.problems().get(0).message());
        assertFalse(rootBlivetd().allowsReservedName());
        JobSpecResolver rehearsal = rootBlivetd().forRehearsal();
        assertTrue(rehearsal.allowsReservedName());
        assertTrue(rehearsal.withAccounts(accounts -> accounts).allowsReservedName(), "kept per connection");
        assertEquals(ReservedName.REHEARSAL, rehearsal.resolve(parse(spec("name", ReservedName.REHEARSAL))).name());
        resolves(spec("name", ReservedName.REHEARSAL + "2")); // that one name alone
    }

    @Test
    void fullSpecResolves() throws IOException {
        dir("run");
        dir("log");
        dir("srv");
        Map<String, Object> spec = spec();
        spec.put("env", Map.of("MODE", "production"));
        spec.put("chdir", tmp.resolve("srv").toString());
        spec.put("umask", "027");
        spec.put("user", "nobody");
        spec.put("group", "nogroup");
        spec.put("pidfile", tmp.resolve("run/web.pid").toString());
        spec.put("lockfile", tmp.resolve("run/web.lock").toString());
        spec.put("stdout", tmp.resolve("log/web.log").toString());
        spec.put("stderr", tmp.resolve("log/web.log").toString());
        spec.put("append", true);
        spec.put("rlimits", Map.of("nofile", 4096));
        spec.put("readiness", "notify-fd");
        spec.put("notify_fd", 5);
        spec.put("ready_timeout", 2.5);
        spec.put("start_grace", 1);
        ResolvedJob job = resolves(spec);
        assertEquals(tmp.resolve("srv").toString(), job.chdir());
        assertEquals(0027, job.umask());
        assertEquals(65534, job.identity().uid());
        assertEquals(65534, job.identity().gid());
        assertEquals(tmp.resolve("run/web.pid").toString(), job.pidfile());
        assertEquals(tmp.resolve("run/web.lock").toString(), job.lockfile());
        assertEquals(tmp.resolve("log/web.log").toString(), job.stdout());
        assertEquals(tmp.resolve("log/web.log").toString(), job.stderr(), "stdout and stderr may share a file");
        assertTrue(job.append());
        assertEquals(List.of(new RLimit("nofile", 4096, 4096)), job.rlimits());
        assertEquals(Readiness.NOTIFY_FD, job.readiness());
        assertEquals(5, job.notifyFd());
        assertEquals(Duration.ofMillis(2500), job.readyTimeout());
        assertEquals(Duration.ofSeconds(1), job.startGrace());
        assertEquals("production", envOf(job).get("MODE"));
    }

    // ---- name ----

    @Test
    void nameIsRequired() {
        Map<String, Object> spec = spec();
        spec.remove("name");
        rejects(spec, ExitCode.USAGE, "'name'", "required");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-web", ".web", "_web", "web/1", "../web", "web 1", "wéb", "web\n",
            "a12345678901234567890123456789012345678901234567890123456789012345"})
    void invalidNamesAreRejected(String name) {
        rejects(spec("name", name), ExitCode.USAGE, "'name'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"web", "Web-1", "web_1.2@host", "9",
            "a123456789012345678901234567890123456789012345678901234567890123"})
    void validNamesAreAccepted(String name) {
        assertEquals(name, resolves(spec("name", name)).name());
    }

    // ---- command ----

    @Test
    void commandIsRequired() {
        Map<String, Object> spec = spec();
        spec.remove("command");
        rejects(spec, ExitCode.USAGE, "'command'", "required");
    }

    @Test
    void commandMustNotBeEmpty() {
        rejects(spec("command", List.of()), ExitCode.USAGE, "'command'");
    }

    @Test
    void commandElementsMustNotBeNull() {
        rejects(spec("command", Arrays.asList((String) null)), ExitCode.USAGE, "'command[0]'", "null");
        rejects(spec("command", Arrays.asList(app.toString(), "-v", null)), ExitCode.USAGE, "'command[2]'", "null");
    }

    @Test
    void programNameMustNotBeEmpty() {
        rejects(spec("command", List.of("")), ExitCode.USAGE, "'command[0]'", "empty");
    }

    @Test
    void argumentsMayBeEmpty() {
        assertEquals(List.of(app.toString(), ""), resolves(spec("command", List.of(app.toString(), ""))).argv());
    }

    @Test
    void relativeProgramPathIsRejected() {
        rejects(spec("command", List.of("bin/app")), ExitCode.USAGE, "'command[0]'", "\"bin/app\"");
        rejects(spec("command", List.of("./app")), ExitCode.USAGE, "'command[0]'", "\"./app\"");
    }

    @Test
    void nulInAnArgumentIsRejected() {
        rejects(spec("command", List.of(app.toString(), "a\0b")), ExitCode.USAGE, "'command[1]'", "NUL");
    }

    @Test
    void nulInTheProgramIsRejectedOnce() {
        rejects(spec("command", List.of(app + "\0x")), ExitCode.USAGE, "'command[0]'", "NUL");
    }

    // ---- paths ----

    @ParameterizedTest
    @ValueSource(strings = {"chdir", "chroot", "pidfile", "lockfile", "stdout", "stderr"})
    void relativePathsAreRejected(String field) {
        rejects(spec(field, "var/run/x"), ExitCode.USAGE, "'" + field + "'", "absolute", "\"var/run/x\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"chdir", "chroot", "pidfile", "lockfile", "stdout", "stderr"})
    void nulInPathsIsRejected(String field) {
        rejects(spec(field, tmp + "/x\0y"), ExitCode.USAGE, "'" + field + "'", "NUL");
    }

    @Test
    void pathsAreNormalized() throws IOException {
        dir("run");
        dir("srv");
        ResolvedJob job = resolves(with(spec("pidfile", tmp + "/run/./x/../web.pid"), "chdir", tmp + "//srv/"));
        assertEquals(tmp.resolve("run/web.pid").toString(), job.pidfile());
        assertEquals(tmp.resolve("srv").toString(), job.chdir());
    }

    // ---- chdir and chroot ----

    @Test
    void chdirMustExist() {
        Path missing = tmp.resolve("missing");
        rejects(spec("chdir", missing.toString()), ExitCode.OS_ERROR, "'chdir'", missing.toString());
    }

    @Test
    void chdirMustBeADirectory() throws IOException {
        Path file = file("plain", "rw-r--r--");
        rejects(spec("chdir", file.toString()), ExitCode.OS_ERROR, "'chdir'", "not a directory", file.toString());
    }

    @Test
    void chrootMustBeADirectory() throws IOException {
        Path file = file("plain", "rw-r--r--");
        rejectsWith(with(spec("chroot", file.toString()), "command", List.of("/bin/app")), ExitCode.OS_ERROR,
                "'chroot'", file.toString());
    }

    @Test
    void chdirAndProgramAreResolvedInsideTheChroot() throws IOException {
        Path jail = dir("jail");
        dir("jail/srv");
        file("jail/bin/app", "rwxr-xr-x");
        dir("run"); // only on the host: pidfile and output files are host paths
        Map<String, Object> spec = spec();
        spec.put("chroot", jail.toString());
        spec.put("chdir", "/srv");
        spec.put("command", List.of("/bin/app"));
        spec.put("pidfile", tmp.resolve("run/web.pid").toString());
        spec.put("stdout", tmp.resolve("run/web.log").toString());
        ResolvedJob job = resolves(spec);
        assertEquals(jail.toString(), job.chroot());
        assertEquals("/srv", job.chdir(), "chdir is a path inside the chroot");
        assertEquals("/bin/app", job.program(), "the program is a path inside the chroot");
        assertEquals(tmp.resolve("run/web.pid").toString(), job.pidfile(), "file paths are host paths");
        assertEquals(tmp.resolve("run/web.log").toString(), job.stdout());
    }

    @Test
    void chdirIsLookedUpInsideTheChrootNotOnTheHost() throws IOException {
        Path jail = dir("jail");
        file("jail/bin/app", "rwxr-xr-x");
        // /tmp exists on the host but not in the jail
        Map<String, Object> spec = with(with(spec("chroot", jail.toString()), "chdir", "/tmp"), "command",
                List.of("/bin/app"));
        rejects(spec, ExitCode.OS_ERROR, "'chdir'", jail.resolve("tmp").toString());
    }

    @Test
    void programIsLookedUpInsideTheChrootNotOnTheHost() throws IOException {
        Path jail = dir("jail");
        // /bin/sh exists on the host but not in the jail
        rejects(with(spec("chroot", jail.toString()), "command", List.of("/bin/sh")), ExitCode.NO_INPUT,
                jail.resolve("bin/sh").toString());
    }

    @Test
    void bareProgramNameIsSearchedInPathInsideTheChroot() throws IOException {
        Path jail = dir("jail");
        file("jail/opt/tools/app", "rwxr-xr-x");
        Map<String, Object> spec = with(spec("chroot", jail.toString()), "command", List.of("app"));
        spec.put("env", Map.of("PATH", "/usr/bin:/opt/tools"));
        assertEquals("/opt/tools/app", resolves(spec).program());
    }

    @Test
    void dotDotInTheProgramDoesNotEscapeTheChroot() throws IOException {
        Path jail = dir("jail");
        // Inside the jail, "/../../../../../../../../bin/sh" is "/bin/sh", which the jail does not
        // have; the host's /bin/sh must not make validation pass.
        String escape = "/../../../../../../../../bin/sh";
        assumeTrue(Files.isExecutable(Path.of("/bin/sh")));
        rejects(with(spec("chroot", jail.toString()), "command", List.of(escape)), ExitCode.NO_INPUT,
                jail.resolve("bin/sh").toString());
    }

    @Test
    void dotDotInPathDoesNotEscapeTheChroot() throws IOException {
        Path jail = dir("jail");
        assumeTrue(Files.isExecutable(Path.of("/bin/sh")));
        Map<String, Object> spec = with(spec("chroot", jail.toString()), "command", List.of("sh"));
        spec.put("env", Map.of("PATH", "/../../../../../../../../bin"));
        rejects(spec, ExitCode.NO_INPUT, jail.toString());
    }

    // ---- pidfile, lockfile, stdout, stderr ----

    @ParameterizedTest
    @ValueSource(strings = {"pidfile", "lockfile", "stdout", "stderr"})
    void fileThatIsADirectoryIsRejected(String field) throws IOException {
        Path directory = dir("run/web.pid");
        rejects(spec(field, directory.toString()), ExitCode.CANT_CREATE, "'" + field + "'", "directory",
                directory.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"pidfile", "lockfile", "stdout", "stderr"})
    void fileWhoseParentDoesNotExistIsRejected(String field) {
        Path parent = tmp.resolve("no/such/dir");
        rejects(spec(field, parent.resolve("web.pid").toString()), ExitCode.CANT_CREATE, "'" + field + "'",
                parent.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"pidfile", "lockfile", "stdout", "stderr"})
    void symbolicLinkIsRejected(String field) throws IOException {
        Path target = file("real.pid", "rw-r--r--");
        Path link = Files.createSymbolicLink(tmp.resolve("link.pid"), target);
        rejects(spec(field, link.toString()), ExitCode.CANT_CREATE, "'" + field + "'", link.toString());
    }

    /** Root's probes, except that everything below {@code readOnly} is on a read-only file system. */
    private static final class ReadOnlyBelow implements SystemProbe {
        private final AsRoot root = new AsRoot();
        private final Path readOnly;

        ReadOnlyBelow(Path readOnly) {
            this.readOnly = readOnly;
        }

        @Override public PathFacts look(Path path) {
            return root.look(path);
        }

        @Override public PathFacts follow(Path path) {
            return root.follow(path);
        }

        @Override public java.util.Optional<String> whyNotWritable(Path path) {
            return path.startsWith(readOnly) ? java.util.Optional.of("read-only file system") : root.whyNotWritable(path);
        }

        @Override public boolean isExecutable(Path file) {
            return root.isExecutable(file);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pidfile", "lockfile", "stdout", "stderr"})
    void aReadOnlyFileSystemIsNamedAsSuchNotAsAPermission(String field) throws IOException {
        Path ro = dir("ro");
        Path existing = file("ro/old.log", "rw-r--r--");
        JobSpecResolver resolver = new JobSpecResolver(ROOT_BLIVETD, new ReadOnlyBelow(ro), DAEMON_ENV);
        SpecException created = assertThrows(SpecException.class,
                () -> resolver.resolve(parse(spec(field, ro.resolve("new.log").toString()))));
        assertEquals(List.of("cannot create: '" + field + "': directory " + ro + ": read-only file system"),
                created.problems().stream().map(SpecProblem::toString).toList());
        SpecException opened = assertThrows(SpecException.class,
                () -> resolver.resolve(parse(spec(field, existing.toString()))));
        assertEquals(List.of("cannot create: '" + field + "': " + existing + ": read-only file system"),
                opened.problems().stream().map(SpecProblem::toString).toList());
    }

    /** The helper's Rule 3 checks, made ahead by the real probe: what start would refuse, validate refuses. */
    @Test
    void anExistingFileTheHelperWouldRefuseIsRefusedAhead() throws IOException {
        Path mine = file("mine.log", "rw-r--r--"); // the test runner's, not nobody's
        int runner = (Integer) Files.getAttribute(mine, "unix:uid");
        JobSpecResolver real = new JobSpecResolver(ROOT_BLIVETD, new FileSystemProbe(), DAEMON_ENV);
        SpecException owner = assertThrows(SpecException.class,
                () -> real.resolve(parse(with(spec("stdout", mine.toString()), "user", "nobody"))));
        int nobody = ACCOUNTS.user("nobody").orElseThrow().uid();
        assertEquals(List.of("cannot create: 'stdout': " + mine + " belongs to uid " + runner + ", not to the job's user"
                + " (uid " + nobody + "); blivet uses an existing file only if it does"),
                owner.problems().stream().map(SpecProblem::toString).toList());

        Files.createLink(tmp.resolve("second-name.log"), mine);
        SpecException links = assertThrows(SpecException.class, () -> real.resolve(parse(spec("stderr", mine.toString())),
                runner));
        assertTrue(links.getMessage().contains("'stderr': " + mine + " has 2 hard links"), links::getMessage);
    }

    @Test
    void probeReportsOnlyWhatTheFileSystemShows() {
        Map<String, Object> spec = with(spec("umask", "999"), "command", List.of(tmp.resolve("no/program").toString()));
        spec.put("stdout", tmp.resolve("no/dir/out.log").toString());
        List<String> found = rootBlivetd().probe(parse(spec)).stream().map(SpecProblem::toString).toList();
        assertEquals(2, found.size(), found::toString);
        assertTrue(found.get(0).contains("'stdout'") && found.get(1).contains("no/program"), found::toString);
    }

    @Test
    void aMistypedStopSignalSuggestsTheSignal() {
        rejects(spec("stop_signal", "TREM"), ExitCode.USAGE, "'stop_signal'", "\"TREM\" (did you mean \"TERM\"?)");
        rejects(spec("stop_signal", "SIGTREM"), ExitCode.USAGE, "(did you mean \"TERM\"?)");
    }

    @Test
    void existingRegularFilesAreFine() throws IOException {
        Path pid = file("web.pid", "rw-r--r--");
        Path log = file("web.log", "rw-r--r--");
        ResolvedJob job = resolves(with(spec("pidfile", pid.toString()), "stdout", log.toString()));
        assertEquals(pid.toString(), job.pidfile());
        assertEquals(log.toString(), job.stdout());
    }

    /** Each path is asked each question once, however many rules need the answer. */
    @Test
    void theFileSystemIsAskedOncePerPathAndQuestion() throws Exception {
        Path run = dir("run");
        Path log = file("run/web.log", "rw-r--r--");
        Map<String, Object> spec = with(spec("chdir", run.toString()), "command", List.of("app", "--serve"));
        Path linked = Files.createSymbolicLink(dir("links").resolve("app"), app);
        spec.put("env", Map.of("PATH", tmp.resolve("none") + ":" + tmp.resolve("links") + ":" + tmp.resolve("bin")));
        spec.put("pidfile", run.resolve("web.pid").toString());
        spec.put("lockfile", run.resolve("web.lock").toString());
        spec.put("stdout", log.toString());
        spec.put("stderr", run.resolve("web.err").toString());
        Map<String, Integer> asked = new java.util.TreeMap<>();
        AsRoot root = new AsRoot();
        SystemProbe counting = new SystemProbe() {
            private <T> T count(String question, Path path, T answer) {
                asked.merge(question + " " + path, 1, Integer::sum);
                return answer;
            }

            @Override public PathFacts look(Path path) {
                return count("look", path, root.look(path));
            }

            @Override public PathFacts follow(Path path) {
                return count("follow", path, root.follow(path));
            }

            @Override public java.util.Optional<String> whyNotWritable(Path path) {
                return count("writable", path, root.whyNotWritable(path));
            }

            @Override public boolean isExecutable(Path file) {
                return count("executable", file, root.isExecutable(file));
            }
        };
        ResolvedJob job = new JobSpecResolver(ROOT_BLIVETD, counting, DAEMON_ENV).resolve(parse(spec));
        assertEquals(linked.toString(), job.program());
        assertTrue(asked.values().stream().allMatch(n -> n == 1), asked::toString);
        // The four files' directory is the chdir: looked at once, for all of them. Only the
        // program found in PATH is a symbolic link, so only it is followed as well.
        assertEquals(List.of("executable " + linked, "follow " + linked, "look " + linked, "look " + tmp.resolve("none/app"),
                "look " + run,
                "look " + run.resolve("web.err"), "look " + run.resolve("web.lock"), "look " + log,
                "look " + run.resolve("web.pid"), "writable " + run, "writable " + log), List.copyOf(asked.keySet()));
    }

    @Test
    void pidfileMustNotBeStdout() throws IOException {
        String path = dir("run").resolve("web.out").toString();
        rejects(with(spec("pidfile", path), "stdout", path), ExitCode.USAGE, "'pidfile'", "'stdout'", path);
    }

    @Test
    void pidfileMustNotBeStderr() throws IOException {
        String path = dir("run").resolve("web.out").toString();
        rejects(with(spec("pidfile", path), "stderr", path), ExitCode.USAGE, "'pidfile'", "'stderr'", path);
    }

    @Test
    void lockfileMustNotBeStderr() throws IOException {
        String path = dir("run").resolve("web.err").toString();
        rejects(with(spec("lockfile", path), "stderr", path), ExitCode.USAGE, "'lockfile'", "'stderr'", path);
    }

    @Test
    void lockfileMustNotBeStdout() throws IOException {
        String path = dir("run").resolve("web.err").toString();
        rejects(with(spec("lockfile", path), "stdout", path), ExitCode.USAGE, "'lockfile'", "'stdout'", path);
    }

    @Test
    void sameFileIsDetectedThroughDifferentSpellings() throws IOException {
        dir("run");
        rejects(with(spec("pidfile", tmp + "/run/web.out"), "stdout", tmp + "/run/./web.out"), ExitCode.USAGE,
                "'pidfile'", "'stdout'");
    }

    /** One file by two hard links: the same file, and (Rule 3) a file with two links, both said. */
    @Test
    void pidfileHardLinkedToStdoutIsRejected() throws IOException {
        Path log = file("run/web.log", "rw-r--r--");
        Path link = Files.createLink(tmp.resolve("run/web.pid"), log);
        SpecException e = rejectsWith(with(spec("pidfile", link.toString()), "stdout", log.toString()), ExitCode.USAGE,
                "'pidfile'", "'stdout'", link.toString(), "has 2 hard links");
        assertEquals(3, e.problems().size(), e::getMessage);
    }

    @Test
    void lockfileHardLinkedToStderrIsRejected() throws IOException {
        Path log = file("run/web.err", "rw-r--r--");
        Path link = Files.createLink(tmp.resolve("run/web.lock"), log);
        SpecException e = rejectsWith(with(spec("lockfile", link.toString()), "stderr", log.toString()), ExitCode.USAGE,
                "'lockfile'", "'stderr'", link.toString(), "has 2 hard links");
        assertEquals(3, e.problems().size(), e::getMessage);
    }

    @Test
    void pidfileAndStdoutThroughASymlinkedDirectoryAreTheSameFile() throws IOException {
        Path real = dir("real");
        Path alias = Files.createSymbolicLink(tmp.resolve("alias"), real);
        // Neither file exists yet; alias/web.out and real/web.out will be one file all the same.
        rejects(with(spec("pidfile", alias.resolve("web.out").toString()), "stdout", real.resolve("web.out").toString()),
                ExitCode.USAGE, "'pidfile'", "'stdout'");
    }

    @Test
    void lockfileMayBeThePidfile() throws IOException {
        String path = dir("run").resolve("web.pid").toString();
        ResolvedJob job = resolves(with(spec("pidfile", path), "lockfile", path));
        assertEquals(path, job.pidfile());
        assertEquals(path, job.lockfile());
    }

    /**
     * The pidfile and the lockfile may be one file (above), so two hard links of one are not
     * refused as the same file; only Rule 3 refuses them, as it refuses any file with two links.
     */
    @Test
    void lockfileHardLinkedToThePidfileIsRefusedOnlyForItsLinks() throws IOException {
        Path pid = file("run/web.pid", "rw-r--r--");
        Path link = Files.createLink(tmp.resolve("run/web.lock"), pid);
        SpecException e = assertThrows(SpecException.class,
                () -> resolve(with(spec("pidfile", pid.toString()), "lockfile", link.toString())));
        assertEquals(List.of("cannot create: 'pidfile': " + pid + " has 2 hard links; blivet uses an existing file only"
                + " with one", "cannot create: 'lockfile': " + link + " has 2 hard links; blivet uses an existing file"
                + " only with one"), e.problems().stream().map(SpecProblem::toString).toList());
    }

    @Test
    void fileNamingTheRootDirectoryIsRejected() {
        rejectsWith(spec("pidfile", "/"), ExitCode.USAGE, "'pidfile'");
    }

    // ---- env ----

    @Test
    void environmentIsExactlyEnvPlusIdentityPlusDefaultPath() {
        ResolvedJob job = resolves(spec("env", Map.of("MODE", "production", "EMPTY", "")));
        Map<String, String> expected = identityEnv("root");
        expected.put("PATH", Defaults.PATH);
        expected.put("MODE", "production");
        expected.put("EMPTY", "");
        assertEquals(expected, envOf(job));
    }

    @Test
    void environmentFollowsTheJobsUser() {
        ResolvedJob job = resolves(spec("user", "nobody"));
        Map<String, String> expected = identityEnv("nobody");
        expected.put("PATH", Defaults.PATH);
        assertEquals(expected, envOf(job));
    }

    @Test
    void blivetdsOwnEnvironmentIsNeverPassedOnByDefault() {
        Map<String, String> env = envOf(resolves(spec()));
        assertFalse(env.containsKey("BLIVETD_SECRET"), env::toString);
        assertFalse(env.containsKey("INVOCATION_ID"), env::toString);
        assertFalse(env.containsKey("NOTIFY_SOCKET"), env::toString);
        assertEquals("root", env.get("USER"));
        assertEquals(Defaults.PATH, env.get("PATH"));
    }

    @Test
    void inheritEnvPassesBlivetdsEnvironmentOn() {
        Map<String, String> env = envOf(resolves(with(spec("inherit_env", true), "user", "nobody")));
        assertEquals("must-not-leak", env.get("BLIVETD_SECRET"));
        assertEquals("0123456789abcdef", env.get("INVOCATION_ID"));
        assertEquals("/opt/blivetd/bin:/usr/bin", env.get("PATH"), "an inherited PATH wins over the default");
        assertEquals("nobody", env.get("USER"), "the identity wins over the inherited USER");
        assertEquals("nobody", env.get("LOGNAME"));
    }

    @Test
    void inheritEnvFalseIsTheDefault() {
        assertEquals(envOf(resolves(spec())), envOf(resolves(spec("inherit_env", false))));
    }

    @Test
    void blivetdsOwnNotifySocketIsNotInherited() {
        // blivetd's $NOTIFY_SOCKET is its own channel to systemd: a job that inherits it can
        // declare blivetd ready (or stopping), and an sd-notify job would get two NOTIFY_SOCKET
        // entries, the first one (systemd's) winning in getenv(3).
        Map<String, String> env = envOf(resolves(spec("inherit_env", true)));
        assertFalse(env.containsKey("NOTIFY_SOCKET"), env::toString);
    }

    @Test
    void anSdNotifyJobGetsNoNotifySocketButBlivetds() {
        // blivetd appends NOTIFY_SOCKET=<the job's own socket> at launch; a second entry from the
        // spec would come first in envp and win in getenv(3), so the job would never be seen ready.
        Map<String, Object> spec = with(spec("readiness", "sd-notify"), "env", Map.of("NOTIFY_SOCKET", "/run/other"));
        try {
            Map<String, String> env = envOf(resolve(spec));
            assertFalse(env.containsKey("NOTIFY_SOCKET"), env::toString);
        } catch (SpecException e) {
            assertEquals(ExitCode.USAGE, e.code(), e::getMessage);
            assertTrue(e.getMessage().contains("NOTIFY_SOCKET"), e::getMessage);
        }
    }

    @Test
    void specEnvOverridesIdentityAndPath() {
        Map<String, Object> spec = spec("env", Map.of("USER", "someone", "PATH", "/only/here", "HOME", "/srv"));
        spec.put("command", List.of(app.toString()));
        Map<String, String> env = envOf(resolves(spec));
        assertEquals("someone", env.get("USER"));
        assertEquals("/only/here", env.get("PATH"));
        assertEquals("/srv", env.get("HOME"));
        assertEquals("root", env.get("LOGNAME"));
    }

    @Test
    void specEnvOverridesInheritedEnvironment() {
        Map<String, String> env = envOf(resolves(with(spec("inherit_env", true), "env", Map.of("BLIVETD_SECRET", "mine"))));
        assertEquals("mine", env.get("BLIVETD_SECRET"));
    }

    @Test
    void emptyEnvKeyIsRejected() {
        rejects(spec("env", Map.of("", "x")), ExitCode.USAGE, "'env'", "\"\"");
    }

    @Test
    void envKeyWithEqualsSignIsRejected() {
        rejects(spec("env", Map.of("A=B", "x")), ExitCode.USAGE, "'env'", "\"A=B\"");
    }

    @Test
    void nulInEnvKeyIsRejected() {
        rejects(spec("env", Map.of("A\0B", "x")), ExitCode.USAGE, "env", "NUL");
    }

    @Test
    void nulInEnvValueIsRejected() {
        rejects(spec("env", Map.of("SECRET", "a\0b")), ExitCode.USAGE, "'env.SECRET'", "NUL");
    }

    @Test
    void nullEnvValueIsRejected() {
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("TOKEN", null);
        rejects(spec("env", env), ExitCode.USAGE, "'env.TOKEN'", "null");
    }

    // ---- umask ----

    @ParameterizedTest
    @ValueSource(strings = {"", "8", "022x", "0o22", "u=rwx", "-022", "1234", "00022", " 022"})
    void invalidUmaskIsRejected(String umask) {
        rejects(spec("umask", umask), ExitCode.USAGE, "'umask'", "\"" + umask + "\"");
    }

    @Test
    void umaskIsOctal() {
        assertEquals(0022, resolves(spec("umask", "022")).umask());
        assertEquals(0022, resolves(spec("umask", "0022")).umask());
        assertEquals(0022, resolves(spec("umask", "22")).umask());
        assertEquals(0077, resolves(spec("umask", "077")).umask());
        assertEquals(0777, resolves(spec("umask", "0777")).umask());
        assertEquals(0, resolves(spec("umask", "0")).umask());
        assertEquals(0027, resolves(spec("umask", "27")).umask());
    }

    // ---- user and group ----

    @Test
    void unknownUserIsRejected() {
        rejects(spec("user", "no-such-user-blivet"), ExitCode.NO_USER, "\"no-such-user-blivet\"");
    }

    @Test
    void unknownGroupIsRejected() {
        rejects(spec("group", "no-such-group-blivet"), ExitCode.NO_USER, "\"no-such-group-blivet\"");
    }

    @Test
    void unknownGroupWithAUserIsRejected() {
        rejects(with(spec("user", "nobody"), "group", "no-such-group-blivet"), ExitCode.NO_USER,
                "\"no-such-group-blivet\"");
    }

    @Test
    void unknownNumericUserIsRejected() {
        assumeTrue(ACCOUNTS.user(4242424).isEmpty());
        rejects(spec("user", "4242424"), ExitCode.NO_USER, "\"4242424\"");
    }

    @Test
    void nulInUserAndGroupIsRejected() {
        rejects(spec("user", "nobody\0root"), ExitCode.USAGE, "'user'", "NUL");
        rejects(spec("group", "nogroup\0root"), ExitCode.USAGE, "'group'", "NUL");
    }

    @Test
    void userGetsItsPrimaryGroupAndItsGrouplist() throws Exception {
        Identity identity = resolves(spec("user", "nobody")).identity();
        Account nobody = ACCOUNTS.user("nobody").orElseThrow();
        assertEquals(nobody.uid(), identity.uid());
        assertEquals(nobody.gid(), identity.gid(), "group defaults to the user's primary group");
        assertEquals(idGroups("nobody"), set(identity.groups()), "supplementary groups as getgrouplist(3) has them");
    }

    @Test
    void supplementaryGroupsFollowGetgrouplist() throws Exception {
        // root, nobody, and every user /etc/group lists as a member somewhere (if any)
        Set<String> users = new TreeSet<>(List.of("root", "nobody"));
        for (String line : Files.readAllLines(Path.of("/etc/group"))) {
            String[] fields = line.split(":", -1);
            if (fields.length == 4 && !fields[3].isEmpty()) {
                Arrays.stream(fields[3].split(",")).filter(u -> ACCOUNTS.user(u).isPresent()).forEach(users::add);
            }
        }
        for (String user : users) {
            Identity identity = resolves(spec("user", user)).identity();
            assertEquals(idGroups(user), set(identity.groups()), "groups of " + user);
            assertEquals(ACCOUNTS.user(user).orElseThrow().gid(), identity.gid(), "primary group of " + user);
        }
    }

    @Test
    void numericUserAndGroup() {
        ResolvedJob job = resolves(with(spec("user", "65534"), "group", "65534"));
        assertEquals(65534, job.identity().uid());
        assertEquals(65534, job.identity().gid());
        assertEquals("nobody", envOf(job).get("USER"), "a numeric user still gets its name in USER");
    }

    @Test
    void explicitGroupReplacesThePrimaryGroup() {
        Identity identity = resolves(with(spec("user", "nobody"), "group", "root")).identity();
        assertEquals(65534, identity.uid());
        assertEquals(0, identity.gid());
        assertTrue(set(identity.groups()).contains(0), () -> Arrays.toString(identity.groups()));
    }

    @Test
    void groupAloneKeepsTheUidAndOnlyThatGroup() {
        Identity identity = resolves(spec("group", "nogroup")).identity();
        assertEquals(0, identity.uid());
        assertEquals(65534, identity.gid());
        assertArrayEquals(new int[] {65534}, identity.groups());
    }

    @Test
    void rootMayNameRootExplicitly() {
        Identity identity = resolves(spec("user", "root")).identity();
        assertEquals(0, identity.uid());
        assertEquals(0, identity.gid());
    }

    // ---- program ----

    @Test
    void missingProgramIsRejected() {
        String missing = tmp.resolve("bin/missing").toString();
        rejects(spec("command", List.of(missing)), ExitCode.NO_INPUT, missing);
    }

    @Test
    void programThatIsADirectoryIsNotFound() throws IOException {
        Path directory = dir("bin/dir");
        rejects(spec("command", List.of(directory.toString())), ExitCode.NO_INPUT, directory.toString());
    }

    @Test
    void nonExecutableProgramIsRejected() throws IOException {
        Path plain = file("bin/plain", "rw-r--r--");
        rejects(spec("command", List.of(plain.toString())), ExitCode.NO_INPUT, "not executable", plain.toString());
    }

    @Test
    void programMustBeExecutableByTheJobsUser() throws IOException {
        Path rootOnly = file("bin/root-only", "rwx------");
        rejects(with(spec("command", List.of(rootOnly.toString())), "user", "nobody"), ExitCode.NO_INPUT,
                "not executable", "65534", rootOnly.toString());
    }

    @Test
    void programExecutableByTheJobsGroup() throws IOException {
        assumeTrue(ACCOUNTS.effectiveUid() == 0, "only root may give a file to nogroup; CI runs as root");
        Path groupOnly = file("bin/group-only", "rwxr-x---");
        Files.setAttribute(groupOnly, "unix:gid", 65534);
        assertEquals(groupOnly.toString(), resolves(with(spec("command", List.of(groupOnly.toString())), "user",
                "nobody")).program());
    }

    @Test
    void bareNameIsFoundThroughThePathInEnv() throws IOException {
        file("bin2/tool", "rwxr-xr-x");
        Map<String, Object> spec = spec("command", List.of("tool", "-x"));
        spec.put("env", Map.of("PATH", tmp.resolve("bin1") + ":" + tmp.resolve("bin2")));
        ResolvedJob job = resolves(spec);
        assertEquals(tmp.resolve("bin2/tool").toString(), job.program());
        assertEquals(List.of("tool", "-x"), job.argv(), "argv[0] stays as written");
    }

    @Test
    void firstExecutableInPathWins() throws IOException {
        file("bin1/tool", "rw-r--r--"); // not executable: skipped
        file("bin2/tool", "rwxr-xr-x");
        file("bin3/tool", "rwxr-xr-x");
        String path = tmp.resolve("bin1") + ":" + tmp.resolve("bin2") + ":" + tmp.resolve("bin3");
        assertEquals(tmp.resolve("bin2/tool").toString(),
                resolves(with(spec("command", List.of("tool")), "env", Map.of("PATH", path))).program());
    }

    @Test
    void bareNameIsFoundThroughTheDefaultPath() {
        String program = resolves(spec("command", List.of("sh", "-c", "exit 0"))).program();
        assertTrue(program.startsWith("/") && program.endsWith("/sh"), program);
        assertTrue(Arrays.asList(Defaults.PATH.split(":")).contains(Path.of(program).getParent().toString()), program);
    }

    @Test
    void bareNameNotInPathIsRejected() {
        String path = tmp.resolve("bin1") + ":" + tmp.resolve("bin2");
        rejects(with(spec("command", List.of("no-such-tool")), "env", Map.of("PATH", path)), ExitCode.NO_INPUT,
                "\"no-such-tool\"", path);
    }

    @Test
    void bareNameOnlyNonExecutableInPathIsRejected() throws IOException {
        Path plain = file("bin1/tool", "rw-r--r--");
        rejects(with(spec("command", List.of("tool")), "env", Map.of("PATH", tmp.resolve("bin1").toString())),
                ExitCode.NO_INPUT, "not executable", plain.toString());
    }

    @Test
    void relativePathEntriesAreIgnored() throws IOException {
        file("bin1/tool", "rwxr-xr-x");
        // "." and "" (the current directory) are never searched: blivetd's cwd means nothing to a job
        rejects(with(spec("command", List.of("tool")), "env", Map.of("PATH", ":.:bin1")), ExitCode.NO_INPUT,
                "\"tool\"");
    }

    // ---- rlimits ----

    @Test
    void rlimitNumberSetsSoftAndHard() {
        assertEquals(List.of(new RLimit("nofile", 1024, 1024)),
                resolves(spec("rlimits", Map.of("nofile", 1024))).rlimits());
    }

    @Test
    void rlimitInfinity() {
        assertEquals(List.of(new RLimit("core", RLimit.INFINITY, RLimit.INFINITY)),
                resolves(spec("rlimits", Map.of("core", "infinity"))).rlimits());
    }

    @Test
    void rlimitObjectForm() {
        assertEquals(List.of(new RLimit("nofile", 1024, 65536)),
                resolves(spec("rlimits", Map.of("nofile", Map.of("soft", 1024, "hard", 65536)))).rlimits());
        assertEquals(List.of(new RLimit("core", 0, RLimit.INFINITY)),
                resolves(spec("rlimits", Map.of("core", Map.of("soft", 0, "hard", "infinity")))).rlimits());
        assertEquals(List.of(new RLimit("stack", 8388608, 8388608)),
                resolves(spec("rlimits", Map.of("stack", Map.of("soft", 8388608, "hard", 8388608)))).rlimits());
    }

    @Test
    void everyKnownRlimitIsAccepted() {
        Map<String, Object> limits = new LinkedHashMap<>();
        RLimit.NAMES.forEach(name -> limits.put(name, "infinity"));
        assertEquals(RLimit.NAMES, resolves(spec("rlimits", limits)).rlimits().stream().map(RLimit::name)
                .collect(Collectors.toSet()));
    }

    @Test
    void unknownRlimitIsRejected() {
        rejects(spec("rlimits", Map.of("files", 10)), ExitCode.USAGE, "'rlimits.files'", "nofile");
        rejects(spec("rlimits", Map.of("NOFILE", 10)), ExitCode.USAGE, "'rlimits.NOFILE'");
        rejects(spec("rlimits", Map.of("RLIMIT_NOFILE", 10)), ExitCode.USAGE, "'rlimits.RLIMIT_NOFILE'");
    }

    @Test
    void negativeRlimitIsRejected() {
        rejectsWith(spec("rlimits", Map.of("nofile", -1)), ExitCode.USAGE, "'rlimits.nofile'");
        rejects(spec("rlimits", Map.of("nofile", Map.of("soft", -1, "hard", 10))), ExitCode.USAGE, "'rlimits.nofile'");
    }

    @Test
    void aBadRlimitIsReportedOnce() {
        // one value that is both the soft and the hard limit: one mistake, one problem
        rejects(spec("rlimits", Map.of("nofile", -1)), ExitCode.USAGE, "'rlimits.nofile'");
        rejects(spec("rlimits", Map.of("nofile", "unlimited")), ExitCode.USAGE, "'rlimits.nofile'");
    }

    @Test
    void softAboveHardIsRejected() {
        rejects(spec("rlimits", Map.of("nofile", Map.of("soft", 4096, "hard", 1024))), ExitCode.USAGE,
                "'rlimits.nofile'", "soft");
        rejects(spec("rlimits", Map.of("nofile", Map.of("soft", "infinity", "hard", 1024))), ExitCode.USAGE,
                "'rlimits.nofile'", "soft");
    }

    @Test
    void malformedRlimitValuesAreRejected() {
        for (Object bad : List.of("unlimited", "1024", 1.5, true, List.of(1, 2), Map.of("soft", 10),
                Map.of("hard", 10), Map.of())) {
            rejectsWith(spec("rlimits", Map.of("nofile", bad)), ExitCode.USAGE, "'rlimits.nofile'");
        }
    }

    @Test
    void rlimitObjectWithAnUnknownKeyIsRejected() {
        // as everywhere else in a spec, a key blivet does not know is an error, not ignored
        rejectsWith(spec("rlimits", Map.of("nofile", Map.of("soft", 1, "hard", 2, "max", 3))), ExitCode.USAGE,
                "'rlimits.nofile'", "max");
    }

    @Test
    void rlimitAboveLongRangeIsRejected() throws Exception {
        String json = JSON.writeValueAsString(spec())
                .replaceFirst("\\}$", ",\"rlimits\":{\"nofile\":18446744073709551616}}");
        SpecException e = assertThrows(SpecException.class,
                () -> rootBlivetd().resolve(new JobSpecJson().parse(json)));
        assertEquals(ExitCode.USAGE, e.code());
        assertTrue(e.getMessage().contains("'rlimits.nofile'"), e::getMessage);
    }

    // ---- readiness ----

    @Test
    void execReadinessHasNoNotifyFd() {
        ResolvedJob job = resolves(spec("readiness", "exec"));
        assertEquals(Readiness.EXEC, job.readiness());
        assertEquals(-1, job.notifyFd());
        assertFalse(envOf(job).containsKey(Defaults.NOTIFY_FD_ENV));
    }

    @Test
    void notifyFdDefaultsToFd3AndIsNamedInTheEnvironment() {
        ResolvedJob job = resolves(spec("readiness", "notify-fd"));
        assertEquals(Readiness.NOTIFY_FD, job.readiness());
        assertEquals(3, job.notifyFd());
        assertEquals("3", envOf(job).get("BLIVET_NOTIFY_FD"));
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 4, 5, 9, 255})
    void notifyFdMayBeChosen(int fd) {
        ResolvedJob job = resolves(with(spec("readiness", "notify-fd"), "notify_fd", fd));
        assertEquals(fd, job.notifyFd());
        assertEquals(Integer.toString(fd), envOf(job).get("BLIVET_NOTIFY_FD"));
    }

    @Test
    void specCannotOverrideTheNotifyFdVariable() {
        ResolvedJob job = resolves(with(spec("readiness", "notify-fd"), "env", Map.of("BLIVET_NOTIFY_FD", "9")));
        assertEquals("3", envOf(job).get("BLIVET_NOTIFY_FD"));
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 1, 2, 256, 1024})
    void notifyFdOutOfRangeIsRejected(int fd) {
        rejects(with(spec("readiness", "notify-fd"), "notify_fd", fd), ExitCode.USAGE, "'notify_fd'", Integer.toString(fd));
    }

    @Test
    void notifyFdWithExecReadinessIsRejected() {
        rejects(spec("notify_fd", 4), ExitCode.USAGE, "'notify_fd'", "notify-fd");
        rejects(with(spec("readiness", "exec"), "notify_fd", 4), ExitCode.USAGE, "'notify_fd'");
    }

    @Test
    void notifyFdWithSdNotifyReadinessIsRejected() {
        rejects(with(spec("readiness", "sd-notify"), "notify_fd", 4), ExitCode.USAGE, "'notify_fd'");
    }

    @Test
    void sdNotifyReadiness() {
        ResolvedJob job = resolves(spec("readiness", "sd-notify"));
        assertEquals(Readiness.SD_NOTIFY, job.readiness());
        assertEquals(-1, job.notifyFd());
        assertFalse(envOf(job).containsKey("NOTIFY_SOCKET"), "blivetd adds NOTIFY_SOCKET at launch, per job");
    }

    // ---- ready_timeout and start_grace ----

    @Test
    void readyTimeoutMustBePositive() {
        rejects(spec("ready_timeout", 0), ExitCode.USAGE, "'ready_timeout'");
        rejects(spec("ready_timeout", -1), ExitCode.USAGE, "'ready_timeout'");
        rejects(spec("ready_timeout", 86_401), ExitCode.USAGE, "'ready_timeout'");
    }

    @Test
    void readyTimeoutIsInSeconds() {
        assertEquals(Duration.ofMillis(250), resolves(spec("ready_timeout", 0.25)).readyTimeout());
        assertEquals(Duration.ofSeconds(86_400), resolves(spec("ready_timeout", 86_400)).readyTimeout());
    }

    @Test
    void startGraceMayBeZero() {
        assertEquals(Duration.ZERO, resolves(spec("start_grace", 0)).startGrace());
        assertEquals(Duration.ofMillis(1500), resolves(spec("start_grace", 1.5)).startGrace());
    }

    @Test
    void negativeStartGraceIsRejected() {
        rejects(spec("start_grace", -0.5), ExitCode.USAGE, "'start_grace'");
    }

    // ---- supervision keys ----

    @Test
    void supervisionDefaults() {
        Supervision s = resolves(spec()).supervision();
        assertEquals(RestartPolicy.NO, s.restart());
        assertEquals(Set.of(0), s.successExitCodes());
        assertEquals(Duration.ofSeconds(1), s.restartDelay());
        assertEquals(Duration.ofSeconds(60), s.restartDelayMax());
        assertEquals(5, s.restartLimit());
        assertEquals(Duration.ofSeconds(60), s.restartWindow());
        assertEquals(15, s.stopSignal());
        assertEquals(Duration.ofSeconds(10), s.stopTimeout());
        assertFalse(s.autostart());
        assertEquals(KillMode.ALL, s.killMode());
    }

    @Test
    void supervisionKeys() {
        Map<String, Object> spec = spec("restart", "on-failure");
        spec.put("success_exit_codes", List.of(0, 2));
        spec.put("restart_delay", 0.5);
        spec.put("restart_delay_max", 30);
        spec.put("restart_limit", 0);
        spec.put("restart_window", 10);
        spec.put("stop_signal", "SIGINT");
        spec.put("stop_timeout", 0);
        spec.put("autostart", true);
        spec.put("kill_mode", "main");
        Supervision s = resolves(spec).supervision();
        assertEquals(RestartPolicy.ON_FAILURE, s.restart());
        assertEquals(Set.of(0, 2), s.successExitCodes());
        assertEquals(Duration.ofMillis(500), s.restartDelay());
        assertEquals(Duration.ofSeconds(30), s.restartDelayMax());
        assertEquals(0, s.restartLimit());
        assertEquals(Duration.ofSeconds(10), s.restartWindow());
        assertEquals(2, s.stopSignal());
        assertEquals(Duration.ZERO, s.stopTimeout());
        assertTrue(s.autostart());
        assertEquals(KillMode.MAIN, s.killMode());
    }

    @Test
    void invalidSupervisionKeysAreRejected() {
        rejects(spec("success_exit_codes", List.of(0, 256)), ExitCode.USAGE, "'success_exit_codes'", "256");
        rejects(spec("stop_signal", "SIGFOO"), ExitCode.USAGE, "'stop_signal'", "\"SIGFOO\"");
        rejects(spec("restart_limit", -1), ExitCode.USAGE, "'restart_limit'");
        rejects(spec("restart_window", 0), ExitCode.USAGE, "'restart_window'");
        rejects(with(spec("restart_delay", 10), "restart_delay_max", 5), ExitCode.USAGE, "'restart_delay_max'");
    }

    // ---- several problems at once ----

    @Test
    void everyProblemIsReportedAndTheCodeIsTheFirsts() {
        Map<String, Object> spec = spec();
        spec.put("chdir", tmp.resolve("missing").toString()); // 71
        spec.put("umask", "999"); // 64
        spec.put("user", "no-such-user-blivet"); // 67
        spec.put("env", Map.of("A=B", "x")); // 64
        spec.put("rlimits", Map.of("files", 1)); // 64
        SpecException e = assertThrows(SpecException.class, () -> resolve(spec));
        assertTrue(e.problems().size() > 1, e::getMessage);
        assertEquals(5, e.problems().size(), e::getMessage);
        assertEquals(e.problems().get(0).code(), e.code());
        assertEquals(ExitCode.OS_ERROR, e.code(), e::getMessage);
        for (String culprit : List.of("'chdir'", "'umask'", "no-such-user-blivet", "\"A=B\"", "'rlimits.files'")) {
            assertTrue(e.getMessage().contains(culprit), () -> culprit + " missing from " + e.getMessage());
        }
        List<ExitCode> codes = e.problems().stream().map(SpecProblem::code).toList();
        assertTrue(codes.containsAll(List.of(ExitCode.OS_ERROR, ExitCode.USAGE, ExitCode.NO_USER)), codes::toString);
    }

    @Test
    void nameAndCommandProblemsTogether() {
        Map<String, Object> spec = spec();
        spec.remove("name");
        spec.remove("command");
        SpecException e = assertThrows(SpecException.class, () -> resolve(spec));
        assertEquals(2, e.problems().size(), e::getMessage);
        assertTrue(e.getMessage().contains("'name'") && e.getMessage().contains("'command'"), e::getMessage);
    }

    // ---- a non-root blivetd, and non-root clients of a root blivetd ----

    /** The real databases, but blivetd's effective uid is {@code euid}. */
    private static final class UidOverride implements Accounts {
        private final int euid;

        UidOverride(int euid) {
            this.euid = euid;
        }

        @Override
        public java.util.Optional<Account> user(String nameOrUid) {
            return ACCOUNTS.user(nameOrUid);
        }

        @Override
        public java.util.Optional<Account> user(int uid) {
            return ACCOUNTS.user(uid);
        }

        @Override
        public java.util.Optional<Integer> group(String nameOrGid) {
            return ACCOUNTS.group(nameOrGid);
        }

        @Override
        public int[] groupsOf(Account account, int primaryGid) {
            return ACCOUNTS.groupsOf(account, primaryGid);
        }

        @Override
        public int effectiveUid() {
            return euid;
        }
    }

    /**
     * The real files, seen with root's permissions as a root blivetd sees them: root may write
     * anywhere (nothing here is on a read-only file system) and execute a file with any x bit.
     * Whoever runs the test, the files it made are owned by root, as a root job's files would be
     * (the owner rule itself is tested with the real probe: anExistingFileTheHelperWouldRefuseIsRefusedAhead);
     * their group stays theirs.
     */
    private static final class AsRoot implements SystemProbe {
        private final FileSystemProbe real = new FileSystemProbe();

        @Override
        public PathFacts look(Path path) {
            return asRoots(real.look(path));
        }

        @Override
        public PathFacts follow(Path path) {
            return asRoots(real.follow(path));
        }

        private static PathFacts asRoots(PathFacts facts) {
            return facts.exists() ? new PathFacts(facts.mode(), facts.device(), facts.inode(), 0, facts.gid(), facts.links())
                    : facts;
        }

        @Override
        public java.util.Optional<String> whyNotWritable(Path path) {
            return real.follow(path).exists() ? java.util.Optional.empty()
                    : java.util.Optional.of(SystemProbe.PERMISSION_DENIED);
        }

        @Override
        public boolean isExecutable(Path file) {
            return (real.follow(file).permissions() & 0111) != 0;
        }
    }

    /** For a non-root client of a root blivetd: any look at the file system is a leak. */
    private static final class NoProbes implements SystemProbe {
        private static AssertionError leak(Path path) {
            return new AssertionError("a non-root client's spec made root probe " + path);
        }

        @Override
        public PathFacts look(Path path) {
            throw leak(path);
        }

        @Override
        public PathFacts follow(Path path) {
            throw leak(path);
        }

        @Override
        public java.util.Optional<String> whyNotWritable(Path path) {
            throw leak(path);
        }

        @Override
        public boolean isExecutable(Path file) {
            throw leak(file);
        }
    }

    @Nested
    class NonRoot {
        private SpecException rejectsAs(int euid, Map<String, Object> spec, ExitCode code, String... culprits) {
            SpecException e = assertThrows(SpecException.class,
                    () -> new JobSpecResolver(new UidOverride(euid), DAEMON_ENV).resolve(parse(spec)));
            assertEquals(code, e.code(), e::getMessage);
            for (String culprit : culprits) {
                assertTrue(e.getMessage().contains(culprit),
                        () -> "message should name " + culprit + ": " + e.getMessage());
            }
            assertEquals(1, e.problems().size(), e::getMessage);
            return e;
        }

        private ResolvedJob resolvesAs(int euid, Map<String, Object> spec) throws SpecException {
            return new JobSpecResolver(new UidOverride(euid), DAEMON_ENV).resolve(parse(spec));
        }

        @Test
        void onlyRootCanRunAJobAsAnotherUser() {
            rejectsAs(1000, spec("user", "nobody"), ExitCode.NO_PERMISSION, "\"nobody\"");
            rejectsAs(1000, spec("user", "root"), ExitCode.NO_PERMISSION, "\"root\"");
        }

        @Test
        void onlyRootCanRunAJobInAnotherGroup() {
            rejectsAs(1000, spec("group", "nogroup"), ExitCode.NO_PERMISSION, "\"nogroup\"");
        }

        @Test
        void unknownUserIsStillUnknown() {
            rejectsAs(1000, spec("user", "no-such-user-blivet"), ExitCode.NO_USER, "\"no-such-user-blivet\"");
        }

        @Test
        void aNonRootBlivetdMayNameItsOwnUserAndGroup() throws SpecException {
            ResolvedJob job = resolvesAs(65534, with(spec("user", "nobody"), "group", "nogroup"));
            assertNull(job.identity(), "a non-root blivetd cannot change identity: the job keeps blivetd's");
            assertEquals("nobody", envOf(job).get("USER"));
        }

        @Test
        void aNonRootBlivetdsOwnUserFillsTheEnvironment() throws SpecException {
            Map<String, String> env = envOf(resolvesAs(65534, spec()));
            Map<String, String> expected = identityEnv("nobody");
            expected.put("PATH", Defaults.PATH);
            assertEquals(expected, env);
        }

        @Test
        void nonRootBlivetdRejectsChroot() throws IOException {
            Path jail = dir("jail");
            file("jail/bin/app", "rwxr-xr-x");
            rejectsAs(1000, with(spec("chroot", jail.toString()), "command", List.of("/bin/app")), ExitCode.NO_PERMISSION,
                    "'chroot'");
        }

        @Test
        void nonExecutableIsStillRejected() throws IOException {
            Path plain = file("bin/plain", "rw-r--r--");
            rejectsAs(1000, spec("command", List.of(plain.toString())), ExitCode.NO_INPUT, plain.toString());
        }

        @Test
        void programExecutableThroughTheOtherBitIsAccepted() throws IOException, SpecException {
            // root-owned, group root without x, others with x: uid 1000 (not in group root) may
            // execute it through the "other" bits, as execve(2) would allow.
            Path tool = file("bin/tool", "rwx---r-x");
            assertEquals(tool.toString(), resolvesAs(1000, spec("command", List.of(tool.toString()))).program());
        }

        @Test
        void aNonRootClientMayRunJobsOnlyAsItself() throws SpecException {
            JobSpecResolver resolver = rootBlivetd();
            SpecException e = assertThrows(SpecException.class, () -> resolver.resolve(parse(spec("user", "root")), 65534));
            assertEquals(ExitCode.NO_PERMISSION, e.code(), e::getMessage);
            assertTrue(e.getMessage().contains("\"root\""), e::getMessage);

            ResolvedJob job = resolver.resolve(parse(spec()), 65534);
            assertEquals(65534, job.identity().uid(), "a client's job runs as the client");
            assertTrue(job.clientJob(), "a client's job: its rlimits only after the drop");
            assertEquals("nobody", envOf(job).get("USER"));
        }

        @Test
        void aNonRootClientCannotUseChrootOrForeignGroups() throws IOException {
            JobSpecResolver resolver = rootBlivetd();
            Path jail = dir("jail");
            file("jail/bin/app", "rwxr-xr-x");
            SpecException e = assertThrows(SpecException.class, () -> resolver.resolve(
                    parse(with(spec("chroot", jail.toString()), "command", List.of("/bin/app"))), 65534));
            assertEquals(ExitCode.NO_PERMISSION, e.code(), e::getMessage);
            assertTrue(e.getMessage().contains("'chroot'"), e::getMessage);

            e = assertThrows(SpecException.class, () -> resolver.resolve(parse(spec("group", "root")), 65534));
            assertEquals(ExitCode.NO_PERMISSION, e.code(), e::getMessage);
            assertTrue(e.getMessage().contains("\"root\""), e::getMessage);
        }
    }

    /**
     * A non-root client of a root blivetd: validation makes no probe of the file system, so what
     * root could see (a path inside a 0700 root directory exists, is a directory, is writable; a
     * program exists) never shows in the answer. The helper, as the client, checks at the start.
     */
    @Nested
    class ForANonRootClientOfRoot {
        private static final int CLIENT = 65534;

        /** A root blivetd whose every look at the file system fails the test. */
        private JobSpecResolver clientsResolver() {
            return new JobSpecResolver(ROOT_BLIVETD, new NoProbes(), DAEMON_ENV);
        }

        private Path secretDir() throws IOException {
            Path secret = dir("secret");
            Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rwx------"));
            return secret;
        }

        private String answerFor(Map<String, Object> spec) {
            try {
                ResolvedJob job = clientsResolver().resolve(parse(spec), CLIENT);
                return "ok " + job.chdir() + " " + job.stdout() + " " + job.pidfile();
            } catch (SpecException e) {
                return "rejected " + e.getMessage();
            }
        }

        @Test
        void pathsInARootOnlyDirectoryGiveOneAnswerWhetherTheyExistOrNot() throws IOException {
            Path secret = secretDir();
            Files.createDirectory(secret.resolve("sub"));
            Files.writeString(secret.resolve("out.log"), "root's");
            for (String field : List.of("chdir", "stdout", "pidfile", "lockfile", "stderr")) {
                String existing = answerFor(spec(field, secret.resolve(field.equals("chdir") ? "sub" : "out.log").toString()));
                String missing = answerFor(spec(field, secret.resolve("nothing-here").toString()));
                assertEquals(existing.startsWith("ok"), missing.startsWith("ok"), field + ": " + existing + " / " + missing);
                assertTrue(existing.startsWith("ok"), () -> field + ": the helper checks it as the client: " + existing);
                assertFalse(missing.contains("does not exist") || missing.contains("not a directory")
                        || missing.contains("not writable"), missing);
            }
            // a directory where a file belongs, or a file where a directory belongs: root would see it, the client not
            assertTrue(answerFor(spec("stdout", secret.resolve("sub").toString())).startsWith("ok"));
            assertTrue(answerFor(spec("chdir", secret.resolve("out.log").toString())).startsWith("ok"));
        }

        @Test
        void theProgramIsPassedAsGivenForTheHelperToFindAsTheClient() throws IOException, SpecException {
            Path secret = secretDir();
            Path hidden = Files.writeString(secret.resolve("tool"), "#!/bin/sh\n");
            Files.setPosixFilePermissions(hidden, PosixFilePermissions.fromString("rwx------"));
            JobSpecResolver resolver = clientsResolver();
            assertEquals(hidden.toString(), resolver.resolve(parse(spec("command", List.of(hidden.toString()))), CLIENT)
                    .program());
            assertEquals(secret.resolve("none").toString(), resolver.resolve(parse(spec("command",
                    List.of(secret.resolve("none").toString()))), CLIENT).program());
            assertEquals("sh", resolver.resolve(parse(spec("command", List.of("sh"))), CLIENT).program(),
                    "a bare name stays bare: the helper searches PATH as the client");
            assertEquals("no-such-program-anywhere", resolver.resolve(parse(spec("command",
                    List.of("no-such-program-anywhere"))), CLIENT).program());
        }

        @Test
        void rulesThatNeedNoProbeStillApply() {
            String relative = answerFor(spec("stdout", "relative/out.log"));
            assertTrue(relative.startsWith("rejected") && relative.contains("'stdout'"), relative);
            String program = answerFor(spec("command", List.of("bin/app")));
            assertTrue(program.startsWith("rejected") && program.contains("command[0]"), program);
            String same = answerFor(with(spec("stdout", "/tmp/x.log"), "pidfile", "/tmp/x.log"));
            assertTrue(same.startsWith("rejected") && same.contains("same file"), same);
        }

        @Test
        void rootStillGetsTheProbes() throws IOException {
            Path secret = secretDir();
            SpecException e = assertThrows(SpecException.class, () -> rootBlivetd()
                    .resolve(parse(spec("chdir", secret.resolve("nothing-here").toString())), 0));
            assertTrue(e.getMessage().contains("does not exist"), e::getMessage);
        }
    }

    // ---- readiness forking and cgroup limits ----

    @Test
    void aForkingJobNeedsAPidfile() {
        rejects(spec("readiness", "forking"), ExitCode.USAGE, "'pidfile' is required", "\"forking\"");
    }

    @Test
    void aForkingJobsPidfileCannotBeItsLockfile() {
        String file = tmp.resolve("web.pid").toString();
        rejects(with(with(spec("readiness", "forking"), "pidfile", file), "lockfile", file), ExitCode.USAGE,
                "'pidfile' and 'lockfile' are the same file");
    }

    @Test
    void aForkingJobResolves() {
        ResolvedJob job = resolves(with(spec("readiness", "forking"), "pidfile", tmp.resolve("web.pid").toString()));
        assertEquals(Readiness.FORKING, job.readiness());
    }

    @Test
    void limitsResolveToTheCgroupFilesTheyWrite() {
        Map<String, Object> spec = with(with(with(spec("memory_max", "512M"), "tasks_max", 64), "cpu_max", "50%"),
                "cpu_weight", 200);
        ResolvedJob job = resolves(spec);
        assertEquals(new ResourceLimits(512L << 20, 64, 50, 200), job.limits());
        assertEquals(List.of("memory.max=536870912", "pids.max=64", "cpu.max=50000 100000", "cpu.weight=200"),
                job.limits().files().stream().map(s -> s.file() + "=" + s.value()).toList());
        assertEquals(ResourceLimits.NONE, resolves(spec()).limits());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "12X", "1.5G", "-1", "99999999999999999999", "16777216T", ""})
    void aBadMemoryMaxIsRejected(String value) {
        rejects(spec("memory_max", value), ExitCode.USAGE, "'memory_max'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"50", "0%", "102401%", "half", "1.5%"})
    void aBadCpuMaxIsRejected(String value) {
        rejects(spec("cpu_max", value), ExitCode.USAGE, "'cpu_max'");
    }

    @Test
    void outOfRangeTasksAndWeightAreRejected() {
        rejects(spec("tasks_max", 0), ExitCode.USAGE, "'tasks_max'", "1 to 4194304");
        rejects(spec("cpu_weight", 10001), ExitCode.USAGE, "'cpu_weight'", "1 to 10000");
    }

    @Test
    void aLimitThatCannotBeAppliedIsAnErrorSayingWhy() {
        LimitSupport none = (key, controller) -> java.util.Optional.of(key + " needs the cgroup v2 " + controller
                + " controller: no cgroup");
        SpecException e = assertThrows(SpecException.class, () -> rootBlivetd().withLimitSupport(none)
                .resolve(parse(with(spec("memory_max", "1G"), "cpu_weight", 5))));
        assertEquals(List.of("invalid job spec: 'memory_max': memory_max needs the cgroup v2 memory controller: no cgroup",
                "invalid job spec: 'cpu_weight': cpu_weight needs the cgroup v2 cpu controller: no cgroup"),
                e.problems().stream().map(SpecProblem::toString).toList());
        // Without limits, the same support has nothing to refuse.
        assertDoesNotThrow(() -> rootBlivetd().withLimitSupport(none).resolve(parse(spec())));
    }

    @Test
    void aResolverForOneConnectionRefusesTheSameLimits() {
        // blivetd resolves each connection's specs with withAccounts: the limits it cannot apply
        // must stay refused there, or a client's memory_max would pass unenforced.
        LimitSupport none = (key, controller) -> java.util.Optional.of(key + " needs the cgroup v2 " + controller
                + " controller: no cgroup");
        JobSpecResolver perConnection = rootBlivetd().withLimitSupport(none).withAccounts(accounts -> accounts);
        assertThrows(SpecException.class, () -> perConnection.resolve(parse(spec("memory_max", "1G"))));
    }
}
