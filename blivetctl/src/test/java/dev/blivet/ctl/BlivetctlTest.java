package dev.blivet.ctl;

import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.CliExit;
import dev.blivet.common.protocol.Protocol;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every blivetctl command against one real blivetd in its own JVM, with real jobs: output parsed
 * with --json, and each documented exit code produced by a real situation.
 */
class BlivetctlTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final AtomicInteger UNIQUE = new AtomicInteger();

    @TempDir
    static Path tmp;
    static BlivetdProcess daemon;
    static String socket;

    @BeforeAll
    static void startDaemon() throws IOException {
        daemon = BlivetdProcess.start(tmp);
        socket = daemon.socket().toString();
    }

    @AfterAll
    static void stopDaemon() {
        daemon.close();
    }

    /** blivetctl --socket SOCKET args... */
    private static Cli.Result ctl(String... args) {
        List<String> all = new ArrayList<>(List.of("--socket", socket));
        all.addAll(List.of(args));
        return Cli.run(all.toArray(String[]::new));
    }

    private static Cli.Result ok(String... args) {
        Cli.Result result = ctl(args);
        assertEquals(0, result.code(), result::toString);
        return result;
    }

    private static void assertExit(CliExit expected, Cli.Result result) {
        assertEquals(expected.code(), result.code(), result::toString);
    }

    private static String name(String prefix) {
        return prefix + "-" + UNIQUE.incrementAndGet();
    }

    /** A sleep no other process runs, so that /proc tells it apart. */
    private static String sleepArgv() {
        return "[\"/bin/sleep\",\"" + (300_000 + UNIQUE.incrementAndGet() * 7 + ProcessHandle.current().pid() % 1000) + "\"]";
    }

    private static Path spec(String name, String json) {
        try {
            return Files.writeString(tmp.resolve(name + ".json"), json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path sleeper(String name, String extraFields) {
        return spec(name, "{\"name\":\"" + name + "\",\"command\":" + sleepArgv() + extraFields + "}");
    }

    private static List<String> cmdline(int pid) {
        try {
            return List.of(new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
                    .split("\0"));
        } catch (IOException e) {
            return List.of();
        }
    }

    @Test
    void startStatusListStopRemove() {
        String name = name("web");
        Path file = sleeper(name, "");

        Cli.Result started = ok("start", file.toString());
        assertTrue(started.out().matches(name + ": running, pid \\d+\n"), started::toString);
        int pid = Integer.parseInt(started.out().replaceAll("\\D+$", "").replaceAll(".*pid ", ""));
        assertEquals("/bin/sleep", cmdline(pid).get(0));

        JsonNode status = ok("status", name, "--json").json();
        assertEquals("running", status.get("state").asText());
        assertEquals(pid, status.get("pid").asInt());
        assertEquals(0, status.get("restarts").asInt());

        String table = ok("status").out();
        assertTrue(table.startsWith("NAME"), table);
        assertTrue(table.lines().anyMatch(line -> line.matches(name + " +running +" + pid + " +\\d+s +0 +(-|\\d+) +(-|\\S+) +-")), table);
        // Named, it also shows the job's processes, and its usage where its cgroup has the files.
        String named = ok("status", name).out();
        assertTrue(named.contains("\n" + name + ": 1 process"), named);
        assertTrue(named.lines().anyMatch(line -> line.matches(" +" + pid + " +/bin/sleep .*")), named);
        assertEquals(1, status.get("process_count").asInt(), status.toString());
        assertTrue(ok("status", "--json").json().get("jobs").findValuesAsText("name").contains(name));
        JsonNode listed = ok("list", "--json").json().get("jobs");
        assertTrue(listed.toString().contains("\"name\":\"" + name + "\",\"state\":\"running\",\"pid\":" + pid), listed.toString());
        assertTrue(ok("list").out().lines().anyMatch(line -> line.matches(name + " +running +" + pid + " +0")));

        JsonNode stopped = ok("stop", name, "--json").json();
        assertEquals("stopped", stopped.get("state").asText());
        assertEquals(15, stopped.get("exit_signal").asInt());
        assertTrue(cmdline(pid).isEmpty() || !cmdline(pid).get(0).equals("/bin/sleep"), "the job is gone");
        Cli.Result down = ctl("status", name);
        assertExit(CliExit.NOT_RUNNING, down);
        assertTrue(down.out().lines().anyMatch(line -> line.matches(name + " +stopped +- +- +0 +- +- +SIGTERM")), down::toString);

        assertEquals(name + ": removed\n", ok("remove", name).out());
        Cli.Result gone = ctl("status", name);
        assertExit(CliExit.NOT_FOUND, gone);
        assertTrue(gone.err().contains("no job named " + name), gone::toString);
    }

    @Test
    void startByNameWithoutWaitingThenWaitRestartAndSignal() {
        String name = name("hup");
        Path out = tmp.resolve(name + ".out");
        Path file = spec(name, "{\"name\":\"" + name + "\",\"stdout\":\"" + out + "\",\"command\":[\"/bin/sh\",\"-c\","
                + "\"trap 'echo got HUP' HUP; echo started; while :; do sleep 0.05; done\"]}");
        ok("start", file.toString());
        ok("stop", name);

        JsonNode starting = ok("start", name, "--no-wait", "--json").json();
        assertTrue(List.of("starting", "running").contains(starting.get("state").asText()), starting.toString());
        JsonNode ready = ok("wait", name, "--for", "ready", "--timeout", "20", "--json").json();
        assertEquals("running", ready.get("state").asText());

        JsonNode restarted = ok("restart", name, "--json").json();
        assertEquals("running", restarted.get("state").asText());
        assertNotEquals(ready.get("pid").asInt(), restarted.get("pid").asInt(), "a new process");

        Await.until(WAIT, () -> ok("logs", name).out().contains("started"), "the job to start its loop");
        Cli.Result signalled = ok("signal", name, "HUP");
        assertEquals("sent SIGHUP to " + name + " (pid " + restarted.get("pid").asInt() + ")\n", signalled.out());
        Await.until(WAIT, () -> ok("logs", name, "-n", "1").out().equals("got HUP\n"), "the job to log the signal");
        JsonNode logs = ok("logs", name, "--json").json();
        assertEquals(out.toString(), logs.get("file").asText());
        assertTrue(logs.get("lines").toString().contains("got HUP"), logs.toString());

        JsonNode group = ok("signal", name, "SIGUSR2", "--group", "--json").json();
        assertEquals(name, group.get("name").asText());
        ok("wait", name, "--for", "exited", "--timeout", "20");
        ok("remove", name);
    }

    @Test
    void aFailedStartExitsWithNotRunningAndSaysWhy() {
        Path lock = tmp.resolve("held.lock");
        String first = name("holder");
        String second = name("loser");
        ok("start", sleeper(first, ",\"lockfile\":\"" + lock + "\"").toString());

        Cli.Result failed = ctl("start", sleeper(second, ",\"lockfile\":\"" + lock + "\"").toString());
        assertExit(CliExit.NOT_RUNNING, failed);
        assertTrue(failed.err().contains("cannot start " + second + ": lock conflict: " + lock + " is held by pid"),
                failed::toString);
        assertTrue(failed.err().contains("blivetctl logs " + second + " --stderr"), "says what to do next");

        Cli.Result json = ctl("start", second, "--json");
        assertExit(CliExit.NOT_RUNNING, json);
        assertEquals("start_failed", json.json().get("error").get("code").asText());
        assertEquals(69, json.json().get("error").get("exit_code").asInt(), "the helper's sysexits code");

        Cli.Result status = ctl("status", second, "--json");
        assertExit(CliExit.NOT_RUNNING, status);
        assertEquals("failed", status.json().get("state").asText());
        ok("stop", first);
        ok("remove", first, second);
    }

    @Test
    void waitReadyReportsAJobThatEndsInstead() {
        String name = name("brief");
        ok("start", spec(name, "{\"name\":\"" + name + "\",\"command\":[\"/bin/sh\",\"-c\",\"exit 4\"]}").toString(),
                "--no-wait");
        JsonNode ended = ok("wait", name, "--for", "exited", "--timeout", "20", "--json").json();
        assertEquals(4, ended.get("exit_code").asInt(), ended.toString());
        Cli.Result ready = ctl("wait", name, "--for", "ready", "--timeout", "20");
        assertExit(CliExit.NOT_RUNNING, ready);
        assertTrue(ready.err().contains(name + " will not be ready: it is exited, exit 4"), ready::toString);
        ok("remove", name);
    }

    @Test
    void unknownJobsExitWithNotFound() {
        for (String[] command : List.of(new String[] {"status", "nosuch"}, new String[] {"stop", "nosuch"},
                new String[] {"logs", "nosuch"}, new String[] {"start", "nosuch"}, new String[] {"signal", "nosuch", "HUP"},
                new String[] {"wait", "nosuch", "--for", "ready"})) {
            Cli.Result result = ctl(command);
            assertExit(CliExit.NOT_FOUND, result);
            assertTrue(result.err().contains("no job named nosuch"), result::toString);
            assertTrue(result.err().contains("'blivetctl status' lists the jobs"), result::toString);
        }
        Cli.Result json = ctl("status", "nosuch", "--json");
        assertEquals("not_found", json.json().get("error").get("code").asText(), json::toString);
    }

    @Test
    void severalJobsAtOnceGoOnPastAFailure() {
        String a = name("multi");
        String b = name("multi");
        ok("start", sleeper(a, "").toString(), sleeper(b, "").toString());
        Cli.Result status = ctl("status", a, "nosuch", b, "--json");
        assertExit(CliExit.NOT_FOUND, status);
        assertEquals(2, status.json().get("jobs").size(), status::toString);
        assertEquals("nosuch", status.json().get("errors").get(0).get("name").asText());

        Cli.Result stopped = ctl("stop", a, "nosuch", b, "--json");
        assertExit(CliExit.NOT_FOUND, stopped);
        assertEquals(List.of("stopped", "stopped"), stopped.json().get("jobs").findValuesAsText("state"));
        ok("remove", a, b);
    }

    @Test
    void stopAllStopsEveryJob() {
        String a = name("all");
        String b = name("all");
        ok("start", sleeper(a, "").toString(), sleeper(b, "").toString());
        JsonNode jobs = ok("stop", "--all", "--json").json().get("jobs");
        for (JsonNode job : jobs) {
            assertTrue(List.of("stopped", "exited", "failed").contains(job.get("state").asText()), jobs.toString());
        }
        assertTrue(jobs.findValuesAsText("name").containsAll(List.of(a, b)), jobs.toString());
        ok("remove", a, b);
    }

    @Test
    void removingARunningJobIsAConflict() {
        String name = name("busy");
        ok("start", sleeper(name, "").toString());
        Cli.Result result = ctl("remove", name);
        assertExit(CliExit.NOT_RUNNING, result);
        assertTrue(result.err().contains("stop it before removing it"), result::toString);
        Cli.Result signal = ctl("stop", name);
        assertEquals(0, signal.code());
        Cli.Result nothingToSignal = ctl("signal", name, "HUP");
        assertExit(CliExit.NOT_RUNNING, nothingToSignal);
        ok("remove", name);
    }

    @Test
    void timeoutsHaveTheirOwnExitCode() {
        String name = name("forever");
        ok("start", sleeper(name, "").toString());
        Cli.Result waited = ctl("wait", name, "--for", "exited", "--timeout", "0.2");
        assertExit(CliExit.TIMEOUT, waited);
        assertTrue(waited.err().contains("did not reach"), waited::toString);
        assertEquals("timeout", ctl("wait", name, "--for", "stopped", "--timeout", "0.1", "--json").json().get("error")
                .get("code").asText());
        ok("stop", name);

        // A stop cannot reach a job that is still starting (blivetd learns its pid only once it is
        // ready), so the stop below lasts until the ready_timeout: keep that short.
        String slow = name("never-ready");
        Path file = spec(slow, "{\"name\":\"" + slow + "\",\"readiness\":\"notify-fd\",\"ready_timeout\":1.5,\"command\":"
                + sleepArgv() + "}");
        Cli.Result start = ctl("start", file.toString(), "--timeout", "0.3");
        assertExit(CliExit.TIMEOUT, start);
        assertTrue(start.err().contains("cannot start " + slow), start::toString);
        ok("stop", slow);
        ok("remove", name, slow);
    }

    @Test
    void noDaemonIsUnreachableAndSaysHowToStartOne() throws IOException {
        Path nothing = tmp.resolve("nothing.sock");
        Cli.Result result = Cli.run("--socket", nothing.toString(), "status");
        assertExit(CliExit.UNREACHABLE, result);
        assertTrue(result.err().contains("blivetd is not reachable at " + nothing + " (--socket): there is no socket there"),
                result::toString);
        assertTrue(result.err().contains("bin/blivetd") && result.err().contains("systemctl start blivetd")
                && result.err().contains("BLIVETD_SOCKET"), result::toString);

        Path stale = tmp.resolve("stale.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(stale));
        }
        Cli.Result refused = Cli.run("--socket", stale.toString(), "ping", "--json");
        assertExit(CliExit.UNREACHABLE, refused);
        assertTrue(refused.err().contains("nothing listens there"), refused::toString);
        assertEquals("unreachable", refused.json().get("error").get("code").asText());
    }

    @Test
    void usageErrorsExitWithTwo() {
        for (String[] command : List.of(new String[] {}, new String[] {"frobnicate"}, new String[] {"stop"},
                new String[] {"stop", "x", "--all"}, new String[] {"signal", "x", "NOPE"},
                new String[] {"wait", "x", "--for", "sleeping"}, new String[] {"wait", "x"},
                new String[] {"status", "--bogus"}, new String[] {"logs", "x", "-n", "many"},
                new String[] {"start", "no/such/spec.json"}, new String[] {"stop", "x", "--timeout", "-1"},
                new String[] {"help", "frobnicate"})) {
            Cli.Result result = ctl(command);
            assertExit(CliExit.USAGE, result);
            assertTrue(result.err().startsWith("blivetctl: "), result::toString);
        }
        assertTrue(ctl("stauts").err().contains("status"), "suggests the command meant");
    }

    @Test
    void helpEverywhereWithExamplesAndExitCodes() {
        Cli.Result top = Cli.run("--help");
        assertEquals(0, top.code());
        for (CliExit exit : CliExit.values()) {
            assertTrue(top.out().contains("  " + exit.code() + "   "), "exit code " + exit + " documented");
        }
        assertTrue(top.out().contains("Examples:"), top.out());
        for (String command : Commands.names()) {
            Cli.Result help = Cli.run(command, "--help");
            assertEquals(0, help.code(), help::toString);
            assertTrue(help.out().startsWith("Usage: blivetctl " + command), help.out());
            assertTrue(help.out().contains("Examples:"), command + " has examples");
            assertEquals(help.out(), Cli.run("help", command).out());
        }
        Cli.Result version = Cli.run("--version");
        assertTrue(version.out().matches("blivetctl \\d+\\.\\d+\\.\\d+.*\n"), version::toString);
    }

    @Test
    void theShortcutPrintsWhatPicocliPrints() {
        String name = name("same");
        ok("start", sleeper(name, "").toString());
        try {
            String nothing = tmp.resolve("nothing.sock").toString();
            for (String[] args : List.of(new String[] {"--socket", socket, "list"},
                    new String[] {"--socket", socket, "ping", "--json"}, new String[] {"--socket", socket, "ping"},
                    new String[] {"--socket", socket, "status", name, "--json"},
                    new String[] {"--json", "--socket=" + socket, "status", name, "no-such-job"},
                    new String[] {"--socket", socket, "status", "no-such-job"},
                    new String[] {"--socket", nothing, "status", "--json"}, new String[] {"--socket", nothing, "list"})) {
                assertNotEquals(null, Shortcut.parse(args), () -> List.of(args) + " takes the shortcut");
                assertEquals(Cli.runWithPicocli(args).toString(), Cli.run(args).toString(), () -> List.of(args).toString());
            }
        } finally {
            cleanUp(name, true);
        }
    }

    /**
     * Where NativeSocket's library is not there (another architecture, a JVM started without the
     * launcher), blivetctl talks through the JDK's channel and prints the same, errors included.
     */
    @Test
    void theJdkChannelPrintsWhatTheNativeSocketPrints() throws Exception {
        String name = name("channel");
        ok("start", sleeper(name, "").toString());
        try {
            Path file = Files.writeString(tmp.resolve(name("file")), "not a socket");
            for (String path : List.of(socket, tmp.resolve("nothing.sock").toString(), file.toString())) {
                for (String[] args : List.of(new String[] {"--socket", path, "list"},
                        new String[] {"--socket", path, "ping", "--json"}, new String[] {"--socket", path, "status", "--json", "no-such-job"},
                        new String[] {"--socket", path, "status", "no-such-job"}, new String[] {"--socket", path, "stop"})) {
                    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                            .toString(), "-cp", System.getProperty("java.class.path"), "dev.blivet.ctl.Main"));
                    command.addAll(List.of(args));
                    Path out = Files.createTempFile(tmp, "channel", ".out");
                    Path err = Files.createTempFile(tmp, "channel", ".err");
                    Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                            .start();
                    assertTrue(process.waitFor(60, TimeUnit.SECONDS), () -> List.of(args) + " finished");
                    Cli.Result ours = Cli.run(args);
                    assertEquals(ours.toString(), new Cli.Result(process.exitValue(), Files.readString(out),
                            Files.readString(err)).toString(), () -> List.of(args).toString());
                }
            }
        } finally {
            cleanUp(name, true);
        }
    }

    @Test
    void pingAndVersionNameTheDaemon() {
        JsonNode ping = ok("ping", "--json").json();
        assertEquals(1, ping.get("protocol").asInt());
        assertEquals(socket, ping.get("socket").asText());
        assertTrue(ok("ping").out().startsWith("blivetd "));
        JsonNode version = ok("version", "--json").json();
        assertEquals(version.get("blivetctl").get("version").asText(), version.get("blivetd").get("version").asText());
        assertTrue(ok("version").out().startsWith("blivetctl "));
    }

    @Test
    void reloadReportsAndFlagsInvalidFiles() throws IOException {
        String name = name("dir");
        Path good = Files.writeString(daemon.jobsDir().resolve(name + ".json"), "{\"name\":\"" + name + "\",\"command\":"
                + sleepArgv() + "}");
        Path bad = Files.writeString(daemon.jobsDir().resolve("bad.json"), "{\"name\":\"bad\",\"command\":[\"/no/such\"]}");
        Cli.Result reload = ctl("reload", "--json");
        assertExit(CliExit.INVALID_SPEC, reload);
        assertEquals("[\"" + name + "\"]", reload.json().get("added").toString(), reload::toString);
        assertTrue(reload.err().contains("skipped " + bad), reload::toString);

        Files.delete(bad);
        Files.delete(good);
        Cli.Result clean = ok("reload");
        assertTrue(clean.out().contains("removed: " + name), clean::toString);
    }

    @Test
    void validateChecksOfflineAndListsEveryProblem() throws IOException {
        Path good = spec("valid", "{\"name\":\"valid\",\"command\":[\"/bin/true\"]}");
        Cli.Result ok = Cli.run("validate", good.toString());
        assertEquals(0, ok.code(), ok::toString);
        assertEquals(good + ": OK\n", ok.out());

        Path bad = spec("invalid", "{\"name\":\"invalid\",\"umask\":\"999\",\"command\":[\"/no/such/program\"]}");
        Cli.Result problems = Cli.run("--socket", tmp.resolve("none.sock").toString(), "validate", bad.toString());
        assertExit(CliExit.INVALID_SPEC, problems);
        assertTrue(problems.out().contains("'umask'") && problems.out().contains("/no/such/program"), problems::toString);

        Cli.Result json = Cli.run("validate", good.toString(), bad.toString(), "--json");
        assertExit(CliExit.INVALID_SPEC, json);
        assertEquals(false, json.json().get("valid").asBoolean());
        assertEquals(true, json.json().get("files").get(0).get("valid").asBoolean());
        assertEquals(2, json.json().get("files").get(1).get("problems").size(), json::toString);

        Cli.Result missing = Cli.run("validate", tmp.resolve("missing.json").toString());
        assertExit(CliExit.USAGE, missing);
    }

    @Test
    void validateAsksBlivetdAndSaysSoListingEveryProblemWithSuggestions() {
        String name = name("checked");
        Path file = spec(name, "{\"name\":\"" + name + "\",\"command\":[\"/bin/true\", 1],\"cwd\":\"/\","
                + "\"restart\":\"on-falure\",\"stop_signal\":\"TREM\",\"umask\":\"999\"}");
        Cli.Result result = ctl("validate", file.toString());
        assertExit(CliExit.INVALID_SPEC, result);
        assertEquals("checked by blivetd at " + socket + " as uid 0\n", result.err(), result::toString);
        assertEquals(List.of(file + ": 5 problems",
                "  invalid job spec: 'command[1]': wrong type, expected a string",
                "  invalid job spec: unknown key 'cwd' (did you mean 'chdir'?)",
                "  invalid job spec: 'restart': \"on-falure\" is not one of no, on-failure, always (did you mean"
                        + " \"on-failure\"?)",
                "  invalid job spec: 'umask' must be an octal string such as \"022\": \"999\"",
                "  invalid job spec: 'stop_signal' is not a signal name or number: \"TREM\" (did you mean \"TERM\"?)"),
                result.out().lines().toList(), "the shape first, then the rest; nothing twice ('command' is not missing)");
        Cli.Result started = ctl("start", file.toString());
        assertExit(CliExit.INVALID_SPEC, started);
        assertTrue(started.err().contains("'umask'") && started.err().contains("'cwd'"), "start lists them all too: "
                + started);

        Path typos = spec(name + "-sig", "{\"name\":\"" + name + "\",\"command\":[\"/bin/true\"],"
                + "\"stop_signal\":\"TREM\",\"umask\":\"999\"}");
        Cli.Result resolved = ctl("validate", typos.toString(), "--json");
        assertExit(CliExit.INVALID_SPEC, resolved);
        JsonNode document = resolved.json();
        assertEquals("blivetd", document.get("checked_by").asText());
        assertEquals(socket, document.get("socket").asText());
        assertEquals("0", document.get("uid").asText());
        String problems = document.get("files").get(0).get("problems").toString();
        assertTrue(problems.contains("'umask'") && problems.contains("(did you mean \\\"TERM\\\"?)"), problems);

        assertExit(CliExit.OK, ctl("validate", sleeper(name, "").toString()));
        assertExit(CliExit.NOT_FOUND, ctl("status", name)); // validated, not started or stored
    }

    @Test
    void validateSaysWhenItCheckedOfflineAndWhy() {
        Path good = spec(name("offline"), "{\"name\":\"offline\",\"command\":[\"/bin/true\"]}");
        Cli.Result asked = Cli.run("validate", "--offline", good.toString());
        assertEquals(0, asked.code(), asked::toString);
        Cli.Result both = ctl("validate", "--offline", good.toString());
        assertExit(CliExit.USAGE, both);
        assertTrue(both.err().startsWith("blivetctl: --offline never connects: --socket has no use with it"),
                both::toString);
        assertTrue(asked.err().startsWith("checked offline as uid 0 (--offline): ") && asked.err().contains("cannot know"),
                asked::toString);

        Path none = tmp.resolve("nobody-listens.sock");
        Cli.Result unreachable = Cli.run("--socket", none.toString(), "validate", good.toString());
        assertEquals(0, unreachable.code(), unreachable::toString);
        assertTrue(unreachable.err().startsWith("checked offline as uid 0 (blivetd is not reachable at " + none),
                unreachable::toString);
        assertEquals(good + ": OK\n", unreachable.out());
    }

    /** A read-only file system, made for one blivetctl in its own mount namespace. */
    @Test
    void validateNamesAReadOnlyFileSystem() throws Exception {
        assumeTrue(Uid.effective() == 0, "mounts in a mount namespace: needs root");
        Path ro = Files.createDirectories(tmp.resolve("ro-" + UNIQUE.incrementAndGet()));
        Path file = spec(name("ro"), "{\"name\":\"ro\",\"command\":[\"/bin/true\"],\"stdout\":\"" + ro.resolve("out.log")
                + "\"}");
        List<String> command = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs -o ro tmpfs \"$0\" && exec \"$@\"", ro.toString(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "dev.blivet.ctl.Main", "validate", "--offline", file.toString()));
        // (no --socket: with --offline it is a usage error)
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(CliExit.INVALID_SPEC.code(), process.exitValue(), output);
        assertTrue(output.contains(file + ": cannot create: 'stdout': directory " + ro + ": read-only file system\n"),
                output);
        assertFalse(output.contains("not writable"), output);
    }

    /**
     * For a non-root client of a root blivetd, validate refuses what start refuses: inherit_env
     * in blivetd's words, an existing output file of another user with the helper's rule.
     */
    @Test
    void validateAsNobodyRefusesWhatStartRefuses() throws Exception {
        assumeTrue(Uid.effective() == 0, "runs as root: drops a client to nobody");
        Path classpath = readableClasspath();
        String name = name("inherit");
        Path inherit = spec(name, "{\"name\":\"" + name + "\",\"command\":[\"/bin/true\"],\"inherit_env\":true}");
        inherit.toFile().setReadable(true, false);
        Nobody started = asNobody(classpath, "start", inherit.toString());
        Nobody validated = asNobody(classpath, "validate", inherit.toString());
        assertEquals(CliExit.PERMISSION_DENIED.code(), started.code, started.toString());
        assertEquals(CliExit.INVALID_SPEC.code(), validated.code, validated.toString());
        String refusal = "permission denied: 'inherit_env': only root or blivetd's own user may pass blivetd's"
                + " environment to a job (you are uid 65534)";
        assertTrue(started.err.contains(refusal), started.toString());
        assertEquals(inherit + ": " + refusal + "\n", validated.out, validated.toString());
        assertTrue(validated.err.startsWith("checked by blivetd at " + socket + " as uid 65534"), validated.toString());

        String other = name("rootsfile");
        Path log = Files.writeString(tmp.resolve(other + ".log"), "root's\n");
        Path output = spec(other, "{\"name\":\"" + other + "\",\"command\":[\"/bin/true\"],\"stdout\":\"" + log
                + "\"}");
        Nobody check = asNobody(classpath, "validate", output.toString());
        assertEquals(CliExit.INVALID_SPEC.code(), check.code, check.toString());
        assertEquals(output + ": cannot create: 'stdout': " + log + " belongs to uid 0, not to the job's user (uid 65534);"
                + " blivet uses an existing file only if it does\n", check.out, check.toString());
        Nobody start = asNobody(classpath, "start", output.toString());
        assertEquals(CliExit.NOT_RUNNING.code(), start.code, start.toString());
        assertTrue(start.err.contains(log.toString()), start.toString());
        asNobody(classpath, "remove", other);
    }

    @Test
    void aMissingSpecFileIsCalledAMissingFile() {
        Cli.Result missing = ctl("start", "nosuch.json");
        assertExit(CliExit.NOT_FOUND, missing);
        assertTrue(missing.err().startsWith("blivetctl: no such file: nosuch.json; nor does blivetd know a job of that"
                + " name"), missing::toString);
        assertFalse(missing.err().contains("blivetctl status"), missing::toString);
    }

    @Test
    void anUnknownCommandIsNamedWithTheKnownOnes() {
        Cli.Result unknown = ctl("bogus");
        assertExit(CliExit.USAGE, unknown);
        assertTrue(unknown.err().startsWith("blivetctl: unknown command 'bogus'; known: start, stop, restart,"),
                unknown::toString);
        assertFalse(unknown.err().contains("Unmatched argument"), unknown::toString);
        Cli.Result typo = ctl("stauts");
        assertExit(CliExit.USAGE, typo);
        assertTrue(typo.err().startsWith("blivetctl: unknown command 'stauts' (did you mean \"status\"?); known: "),
                typo::toString);
    }

    @Test
    void startingARunningJobAndStoppingAStoppedOneSayWhyNothingHappened() {
        String name = name("noted");
        Path file = sleeper(name, "");
        String started = ok("start", file.toString()).out();
        Cli.Result again = ok("start", name);
        assertEquals(started.replace("running", "already running"), again.out(), again::toString);
        assertEquals(again.out(), ok("start", file.toString()).out(), "by its very spec, too");
        assertEquals("already running", ok("start", name, "--json").json().get("note").asText());

        assertTrue(ok("stop", name).out().matches(name + ": stopped, SIGTERM\n"));
        Cli.Result stoppedAgain = ok("stop", name);
        assertEquals(name + ": already stopped\n", stoppedAgain.out(), stoppedAgain::toString);
        ok("remove", name);
    }

    @Test
    void aConflictGetsNoAdviceAboutLogs() {
        String name = name("conflicted");
        ok("start", sleeper(name, "").toString());
        Cli.Result conflict = ctl("start", sleeper(name, ",\"umask\":\"077\"").toString());
        assertExit(CliExit.NOT_RUNNING, conflict);
        assertTrue(conflict.err().contains("with a different spec: stop it first"), conflict::toString);
        assertFalse(conflict.err().contains("logs"), conflict::toString);
        ok("stop", name);
        ok("remove", name);
    }

    @Test
    void helpSaysWhatItMeans() {
        Cli.Result help = Cli.run("--help");
        assertFalse(help.out().contains("logs ticker"), "examples/jobs/ticker.json has no stdout file");
        String socketHelp = help.out().lines().dropWhile(line -> !line.contains("--socket")).findFirst().orElseThrow();
        assertFalse(socketHelp.contains("--help"), socketHelp);
        assertTrue(Cli.run("validate", "--help").out().contains("--offline"));
    }

    /** A user with a blivetd of its own is refused by its own blivetd: sudo would not help there. */
    @Test
    void aUserOwnBlivetdGivesNoSudoAdvice() throws Exception {
        assumeTrue(Uid.effective() == 0, "runs as root: starts a blivetd as nobody");
        Path classpath = readableClasspath();
        Path home = Files.createDirectories(tmp.resolve("nobody-" + UNIQUE.incrementAndGet()));
        Files.setAttribute(home, "unix:uid", 65534);
        Files.setAttribute(home, "unix:gid", 65534);
        try (BlivetdProcess own = BlivetdProcess.start(home, List.of("setpriv", "--reuid=nobody", "--regid=nogroup",
                "--clear-groups"), classpath + "/*:" + classpath + "/classes")) {
            Path asRoot = spec(name("asroot"), "{\"name\":\"asroot\",\"user\":\"root\",\"command\":[\"/bin/true\"]}");
            Nobody refused = asNobodyAt(classpath, own.socket().toString(), "start", asRoot.toString());
            assertEquals(CliExit.PERMISSION_DENIED.code(), refused.code, refused.toString());
            assertTrue(refused.err.contains("This blivetd runs as you (uid 65534"), refused.toString());
            assertFalse(refused.err.contains("sudo"), refused.toString());
        }
        Nobody toRoots = asNobody(classpath, "reload");
        assertTrue(toRoots.err.contains("sudo blivetctl"), "root's blivetd: root could: " + toRoots);
    }

    /** A --jobs-dir that does not exist (a typo, or a package's directory not made yet): said at start and at reload. */
    @Test
    void aMissingJobsDirectoryIsWarnedOfAtStartAndReload() throws Exception {
        Path home = Files.createDirectories(tmp.resolve("nojobs-" + UNIQUE.incrementAndGet()));
        Path missing = home.resolve("jobs.d-typo");
        try (BlivetdProcess own = BlivetdProcess.start(home, "--jobs-dir", missing.toString())) {
            assertTrue(own.log().contains("jobs directory " + missing + " does not exist: no jobs are loaded from it"
                    + " (create it, then reload: SIGHUP or blivetctl reload) (--jobs-dir " + missing + "); blivetd starts"
                    + " without it"), own.log());
            String at = own.socket().toString();
            Cli.Result reload = Cli.run("--socket", at, "reload");
            assertEquals(0, reload.code(), reload::toString);
            assertTrue(reload.err().startsWith("blivetctl: warning: jobs directory " + missing + " does not exist"),
                    reload::toString);
            assertEquals(1, Cli.run("--socket", at, "reload", "--json").json().get("warnings").size());

            Files.createDirectories(missing);
            Files.writeString(missing.resolve("late.json"), "{\"name\":\"late\",\"command\":[\"/bin/true\"]}");
            Cli.Result found = Cli.run("--socket", at, "reload", "--json");
            assertEquals(0, found.code(), found::toString);
            assertEquals("[\"late\"]", found.json().get("added").toString());
            assertFalse(found.json().has("warnings"), found::toString);
        }
    }

    @Test
    void statusShowsWhatAnSdNotifyJobSaysMadeSafeForATerminal() throws Exception {
        String name = name("talker");
        Path script = Files.writeString(tmp.resolve(name + ".py"), "import os, socket, time\n"
                + "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                + "s.connect(os.environ['NOTIFY_SOCKET'])\n"
                + "s.send(b'READY=1\\nSTATUS=Ready to accept \\x1b[2Jconnections')\n"
                + "time.sleep(600)\n");
        ok("start", spec(name, "{\"name\":\"" + name + "\",\"readiness\":\"sd-notify\",\"command\":[\"/usr/bin/python3\",\""
                + script + "\"]}").toString());
        Await.until(WAIT, () -> ok("status", name, "--json").json().has("status"), "STATUS=");
        assertEquals("Ready to accept \u001b[2Jconnections", ok("status", name, "--json").json().get("status").asText());
        String table = ok("status", name).out();
        assertTrue(table.endsWith("\n\n" + name + ": Ready to accept \\x1b[2Jconnections\n"), table);
        ok("stop", name);
        ok("remove", name);
    }

    @Test
    void aStartingJobShowsItsPidOnceForked() {
        String name = name("slowstart");
        Path file = sleeper(name, ",\"readiness\":\"notify-fd\",\"ready_timeout\":300");
        ok("start", file.toString(), "--no-wait");
        // status NAME exits 3 for a job that is not running (yet): the JSON is what counts here
        Await.until(WAIT, () -> ctl("status", name, "--json").json().has("pid"), "the pid of the starting job");
        Cli.Result starting = ctl("status", name, "--json");
        assertExit(CliExit.NOT_RUNNING, starting);
        JsonNode status = starting.json();
        assertEquals("starting", status.get("state").asText(), status::toString);
        int pid = status.get("pid").asInt();
        // The pid is the job's from its fork on; under load its exec of /bin/sleep may come a little later.
        Await.until(WAIT, () -> cmdline(pid).indexOf("/bin/sleep") == 0, "the job's own process, " + pid + ", runs sleep");
        String table = ok("status").out();
        assertTrue(table.lines().anyMatch(line -> line.matches(name + " +starting +" + pid + " .*")), table);
        JsonNode listed = null;
        for (JsonNode job : ok("list", "--json").json().get("jobs")) {
            listed = job.get("name").asText().equals(name) ? job : listed;
        }
        assertEquals(pid, listed.get("pid").asInt(), "list too");
        ok("stop", name);
        ok("remove", name);
    }

    @Test
    void eventsStreamEachChange() throws Exception {
        String name = name("watched");
        Cli.Live live = new Cli.Live();
        Thread watcher = new Thread(() -> Cli.run(live, "--socket", socket, "events", name, "--count", "2", "--json"));
        watcher.start();
        Await.until(WAIT, () -> live.err.toString().contains("watching blivetd at " + socket), "events to subscribe");
        ok("start", sleeper(name, "").toString());
        watcher.join(TimeUnit.SECONDS.toMillis(30));
        assertEquals(0, live.code, live.err::toString);
        List<JsonNode> events = new Cli.Result(0, live.out.toString(), "").jsonLines();
        assertEquals(List.of("starting", "running"), events.stream().map(e -> e.get("job").get("state").asText()).toList());
        assertEquals("state", events.get(0).get("event").asText());

        Cli.Live people = new Cli.Live();
        Thread human = new Thread(() -> Cli.run(people, "--socket", socket, "events", "--count", "2"));
        human.start();
        Await.until(WAIT, () -> people.err.toString().contains("watching"), "events to subscribe");
        ok("stop", name);
        human.join(TimeUnit.SECONDS.toMillis(30));
        assertTrue(people.out.toString().matches("(?s)\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  " + name + ": stopping.*\n"
                + "\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  " + name + ": stopped, SIGTERM\n"), people.out::toString);
        ok("remove", name);
    }

    @Test
    void logsFollowPrintsNewLines() throws Exception {
        String name = name("follow");
        Path out = tmp.resolve(name + ".out");
        Path fifo = tmp.resolve(name + ".go");
        Files.writeString(fifo, "");
        ok("start", spec(name, "{\"name\":\"" + name + "\",\"stdout\":\"" + out + "\",\"command\":[\"/bin/sh\",\"-c\","
                + "\"echo first; while [ ! -s " + fifo + " ]; do sleep 0.05; done; echo second; exec sleep 600\"]}")
                .toString());
        Await.until(WAIT, () -> ok("logs", name).out().equals("first\n"), "the first line");
        // Its own JVM, ended by a signal as Ctrl-C ends it: a follow ends only when its client hangs up.
        Path followed = tmp.resolve(name + ".follow");
        List<String> command = blivetctlCommand(readableClasspath());
        command.addAll(List.of("--socket", socket, "logs", name, "-f", "--json"));
        Path errors = tmp.resolve(name + ".follow.err");
        Process follower = new ProcessBuilder(command).redirectOutput(followed.toFile())
                .redirectError(errors.toFile()).start();
        try {
            Await.until(WAIT, () -> contents(followed).contains("\"lines\":[\"first\"]"), "the last lines");
            Files.writeString(fifo, "go");
            Await.until(WAIT, () -> contents(followed).contains("{\"event\":\"log\",\"line\":\"second\"}"),
                    "the new line");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; blivetctl printed " + contents(followed) + " and on stderr "
                    + contents(errors), e);
        } finally {
            follower.destroy();
            assertTrue(follower.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the follower ended on SIGTERM");
        }
        ok("stop", name);
        ok("remove", name);
    }

    @Test
    void nobodyIsDeniedRootsJobsAndToldWhatTheyMayDo() throws Exception {
        assumeTrue(Uid.effective() == 0, "runs as root: drops a client to nobody");
        String name = name("rootjob");
        ok("start", sleeper(name, "").toString());
        Path classpath = readableClasspath();

        // To nobody, root's job does not exist: the very answer a missing job gets, no owner named.
        Nobody stop = asNobody(classpath, "stop", name);
        assertEquals(CliExit.NOT_FOUND.code(), stop.code, stop.toString());
        assertTrue(stop.err.contains("no job named " + name) && !stop.err.contains("uid 0"), stop.toString());
        assertTrue(stop.err.contains("only your own"), stop.toString());
        Nobody missing = asNobody(classpath, "stop", name + "x");
        assertEquals(stop.err.replace(name, "NAME"), missing.err.replace(name + "x", "NAME"));

        Nobody reload = asNobody(classpath, "reload", "--json");
        assertEquals(CliExit.PERMISSION_DENIED.code(), reload.code, reload.toString());
        assertTrue(reload.out.contains("\"code\":\"permission_denied\""), reload.toString());

        Nobody asRoot = asNobody(classpath, "start", spec(name("escalate"), "{\"name\":\"escalate\",\"user\":\"root\","
                + "\"command\":[\"/bin/true\"]}").toString());
        assertEquals(CliExit.PERMISSION_DENIED.code(), asRoot.code, asRoot.toString());

        Nobody status = asNobody(classpath, "status");
        assertEquals(0, status.code, status.toString());
        assertTrue(status.out.startsWith("no jobs (you see only your own"), status.toString());
        assertEquals("running", ok("status", name, "--json").json().get("state").asText(), "root's job still runs");
        ok("stop", name);
        ok("remove", name);
    }

    private record Nobody(int code, String out, String err) {
    }

    /**
     * blivetctl in its own JVM as nobody, finding the socket through $BLIVETD_SOCKET: the test's
     * class path lives under /root, which nobody cannot read, so it runs from a copy.
     */
    private static Nobody asNobody(Path classpath, String... args) throws Exception {
        return asNobodyAt(classpath, socket, args);
    }

    private static Nobody asNobodyAt(Path classpath, String socket, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
        command.addAll(blivetctlCommand(classpath));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(tmp.toFile());
        builder.environment().put("BLIVETD_SOCKET", socket);
        builder.environment().put("HOME", tmp.toString());
        Path out = Files.createTempFile(tmp, "nobody", ".out");
        Path err = Files.createTempFile(tmp, "nobody", ".err");
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "blivetctl as nobody finished");
        return new Nobody(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static String contents(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** blivetctl in a JVM of its own, from {@code classpath} ({@link #readableClasspath}). */
    private static List<String> blivetctlCommand(Path classpath) {
        return new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
                "-cp", classpath + "/*:" + classpath + "/classes", "dev.blivet.ctl.Main"));
    }

    /** blivetctl's classes and jars copied where nobody may read them. */
    private static Path readableClasspath() throws IOException {
        Path dir = tmp.resolve("cp");
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Files.createDirectories(dir.resolve("classes"));
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path path = Path.of(entry);
            String file = path.getFileName().toString();
            if (Files.isDirectory(path) && !entry.contains("test-classes")) {
                try (var files = Files.walk(path)) {
                    for (Path source : (Iterable<Path>) files::iterator) {
                        Path target = dir.resolve("classes").resolve(path.relativize(source).toString());
                        if (Files.isDirectory(source)) {
                            Files.createDirectories(target);
                        } else if (!Files.exists(target)) {
                            Files.copy(source, target);
                        }
                    }
                }
            } else if (file.endsWith(".jar")) {
                // every one: validate's user and group look-ups are jnr-posix's, and a blivetd may run from it
                Files.copy(path, dir.resolve(file));
            }
        }
        try (var files = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) files::iterator) {
                path.toFile().setReadable(true, false);
                if (Files.isDirectory(path)) {
                    path.toFile().setExecutable(true, false);
                }
            }
        }
        return dir;
    }

    // ---- one corpus, four readers: validate FILE, start FILE, the start op inline, the jobs directory ----

    /** Good and bad specs; NAME and SLEEP are filled in per reader. */
    private static List<String> agreementCorpus() {
        StringBuilder env = new StringBuilder();
        // {"name":..,"command":[2 strings],"env":{n pairs}} is 12 + 2n tokens: 2042 pairs make 4096, the limit
        for (int i = 0; i < (Protocol.MAX_SPEC_TOKENS - 12) / 2; i++) {
            env.append(i == 0 ? "" : ",").append("\"K").append(i).append("\":\"v\"");
        }
        String deep = "[".repeat(40) + "]".repeat(40);
        return List.of(
                "{\"name\":\"NAME\",\"command\":SLEEP}",
                "{\"name\":\"NAME\",\"command\":SLEEP,\"umask\":\"027\",\"env\":{\"A\":\"1\"}}",
                "{\"name\":\"NAME\",\"command\":SLEEP,\"env\":{" + env + "}}",
                "{\"name\":\"NAME\",\"command\":[\"/bin/sleep\",\"1\",\"1\"],\"env\":{" + env + "}}", // one token more
                "{\"name\":\"NAME\",\"command\":SLEEP,\"umask\":\"022\",\"umask\":\"077\"}",
                "{\"name\":\"NAME\",\"command\":SLEEP,\"env\":{\"A\":\"1\",\"A\":\"2\"}}",
                "{\"name\":\"NAME\",\"command\":SLEEP} {\"name\":\"other\"}",
                "{\"name\":\"NAME\",\"command\":SLEEP} x",
                "{\"name\":\"NAME\",\"command\":SLEEP,\"colour\":\"red\"}",
                "{\"name\":\"NAME\",\"command\":\"/bin/sleep\"}",
                "{\"name\":\"NAME\",\"command\":SLEEP,\"umask\":22}",
                "{\"name\":\"NAME\",\"command\":SLEEP,\"rlimits\":{\"nofile\":" + deep + "}}",
                "[{\"name\":\"NAME\",\"command\":SLEEP}]",
                "{\"name\":\"NAME\",\"command\":SLEEP,}");
    }

    @Test
    void validateStartInlineAndTheJobsDirectoryAgreeOnEverySpec() throws Exception {
        List<String> corpus = agreementCorpus();
        List<String> disagreements = new ArrayList<>();
        int accepted = 0;
        for (int i = 0; i < corpus.size(); i++) {
            String text = corpus.get(i);
            String base = "agree" + i + "-" + UNIQUE.incrementAndGet();

            boolean validate = ctl("validate", specFile(base + "v", text).toString()).code() == 0;

            Cli.Result startResult = ctl("start", specFile(base + "s", text).toString(), "--json");
            boolean start = startResult.code() == 0;
            cleanUp(base + "s", start);

            JsonNode inlineReply;
            try (dev.blivet.daemon.testing.Client raw = daemon.client()) {
                inlineReply = raw.raw("{\"id\":1,\"op\":\"start\",\"spec\":" + fill(text, base + "i") + "}");
            }
            boolean inline = inlineReply.path("ok").asBoolean();
            cleanUp(base + "i", inline);

            Path dirFile = Files.writeString(daemon.jobsDir().resolve(base + "d.json"), fill(text, base + "d"));
            JsonNode report = ctl("reload", "--json").json();
            boolean loaded = report.toString().contains("\"" + base + "d\"");
            boolean refused = report.path("errors").has(dirFile.toString());
            assertTrue(loaded != refused, () -> "the jobs directory says one thing: " + report);
            Files.delete(dirFile);
            ctl("reload");

            if (!(validate == start && start == inline && inline == loaded)) {
                disagreements.add("spec " + i + ": validate " + validate + ", start " + start + " (" + startResult
                        + "), inline " + inline + " (" + inlineReply + "), jobs dir " + loaded + " (" + report + ")");
            }
            accepted += validate ? 1 : 0;
        }
        assertEquals(List.of(), disagreements);
        assertEquals(3, accepted, "the corpus has three good specs");
    }

    private static String fill(String text, String name) {
        return text.replace("NAME", name).replace("SLEEP", sleepArgv());
    }

    private static Path specFile(String name, String text) throws IOException {
        return Files.writeString(tmp.resolve(name + ".json"), fill(text, name));
    }

    private static void cleanUp(String name, boolean started) {
        if (started) {
            ok("stop", name);
            ok("remove", name);
        }
    }
}
