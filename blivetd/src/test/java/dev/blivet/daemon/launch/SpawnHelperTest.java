package dev.blivet.daemon.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.testing.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * blivet-spawn on its own: a hand-written plan on fd 3 and a report file on fd 4, as blivetd's
 * posix_spawn would hand them over, but with no Java validation in front. These check its plan
 * parsing, what it reports for every failure (worded by HelperFailure, as the launcher words it),
 * and what the started program inherits.
 */
class SpawnHelperTest {
    @TempDir
    Path tmp;

    private HelperRun run(String shellSetup, boolean reportPipe, byte[] plan) throws Exception {
        return HelperRun.run(tmp, shellSetup, reportPipe, plan);
    }

    private HelperRun run(String... records) throws Exception {
        return HelperRun.run(tmp, List.of(records));
    }

    private static byte[] plan(String magic, List<String> records) {
        return HelperRun.plan(magic, records);
    }

    private static String awaitLine(HelperRun run, String prefix) {
        return run.awaitLine(prefix);
    }

    private static String awaitError(HelperRun run) {
        return run.awaitError();
    }

    @Test
    void runsThePlanWithItsEnvironmentLimitsAndUmaskAndNothingInherited() throws Exception {
        Path out = tmp.resolve("out");
        HelperRun run = run("trap '' INT HUP USR1;", true, plan("BLVT1", List.of(
                "exec=/bin/sh", "arg=sh", "arg=-c",
                "arg=printf '%s|%s|%s\\n' \"$GREETING\" \"$(ulimit -n)\" \"$(pwd)\" > out;"
                        + " grep -E '^Sig(Ign|Blk)' /proc/self/status >> out",
                "env=GREETING=hello there", "env=PATH=/usr/bin:/bin",
                "umask=077", "chdir=" + tmp, "rlimit=nofile:100:200")));
        assertEquals(0, run.exit(), "the intermediate exits 0 once it has forked");

        String forked = awaitLine(run, "P");
        Await.until(HelperRun.WAIT, () -> lines(out) == 3, "the job's output");
        // The intermediate writes F after its fork returns, the daemon P a few calls later: no order between them.
        assertEquals(List.of("F" + forked.substring(1), forked), run.text().lines().sorted().toList(),
                "F and P, for the same pid");
        assertEquals(List.of("hello there|100|" + tmp, "SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"),
                Files.readAllLines(out), "env, rlimit, chdir; no signal left ignored or blocked");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)), "umask 077");
    }

    private static long lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file).size() : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    @Test
    void saysWhyAProgramCannotRun() throws Exception {
        Path missingInterpreter = tmp.resolve("script");
        Files.writeString(missingInterpreter, "#!/nonexistent/interpreter\n");
        Files.setPosixFilePermissions(missingInterpreter, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path notExecutable = tmp.resolve("data");
        Files.writeString(notExecutable, "data\n");

        assertEquals("E66 cannot run program: /nonexistent/program: No such file or directory",
                awaitError(run("exec=/nonexistent/program", "arg=x", "chdir=/")));
        assertEquals("E66 cannot run program: " + missingInterpreter
                        + ": its interpreter (#! line) or dynamic loader does not exist",
                awaitError(run("exec=" + missingInterpreter, "arg=x", "chdir=/")));
        assertEquals("E77 permission denied: execve " + notExecutable
                        + ": Permission denied (can the job's user search every directory on the way?)",
                awaitError(run("exec=" + notExecutable, "arg=x", "chdir=/")));
        assertEquals("E71 os error: chdir: /nonexistent: No such file or directory",
                awaitError(run("exec=/bin/true", "arg=true", "chdir=/nonexistent")));
    }

    @Test
    void aLongPathIsCutToKeepTheReportOneAtomicLine() throws Exception {
        String longPath = "/nonexistent/" + "x".repeat(3000);
        HelperRun run = run("exec=" + longPath, "arg=x", "chdir=/");
        String line = run.awaitLine("E");
        assertTrue(line.length() < 1024, "one atomic pipe write: " + line.length());
        String error = run.awaitError();
        assertTrue(error.startsWith("E66 cannot run program: /nonexistent/xxx"), error);
        assertTrue(error.endsWith("x: No such file or directory"), "the path cut, the errno kept: "
                + error.substring(error.length() - 40));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "uid=12x                      | bad number for uid: 12x",
        "uid=-1                       | bad number for uid: -1",
        "uid=99999999999999999999999  | bad number for uid: 99999999999999999999999",
        "uid=4294967295               | uid out of range: 4294967295",
        "umask=089                    | bad number for umask: 089",
        "notify_fd=9                  | notify fd requested but fd 5 is not open",
        "rlimit=nofile:1              | bad rlimit nofile:1",
        "rlimit=cores:1:1             | unknown rlimit cores",
        "rlimit=core:1:lots           | bad number for rlimit: lots",
        "bogus=1                      | unknown plan key bogus (helper and blivetd versions differ?)",
        "resolve=follow               | unknown resolve follow",
        "chdir                        | plan record without '=': chdir",
        "parent=1x                    | bad number for parent: 1x",
    })
    void refusesABrokenPlanBeforeForking(String record, String message) throws Exception {
        HelperRun run = run("exec=/bin/true", "arg=true", "chdir=/", record);
        assertEquals(70, run.exit());
        assertEquals(1, run.text().lines().count(), "one line, and no fork: " + run.text());
        assertEquals("E70 internal error: " + message, run.awaitError());
    }

    @Test
    void refusesAPlanFromAnotherVersionOrCutShort() throws Exception {
        HelperRun otherVersion = run("", true, plan("BLVT0", List.of("exec=/bin/true", "arg=true", "chdir=/")));
        assertEquals(70, otherVersion.exit());
        assertEquals("E70 internal error: plan has no magic (helper and blivetd versions differ?)", otherVersion.awaitError());

        HelperRun incomplete = run("exec=/bin/true", "arg=true");
        assertEquals("E70 internal error: plan lacks exec, argv or chdir", incomplete.awaitError());

        byte[] unterminated = plan("BLVT1", List.of("exec=/bin/true", "arg=true", "chdir=/"));
        HelperRun cut = run("", true, java.util.Arrays.copyOf(unterminated, unterminated.length - 1));
        assertEquals("E70 internal error: plan not NUL-terminated", cut.awaitError());

        HelperRun empty = run("", true, new byte[0]);
        assertEquals("E70 internal error: plan size 0", empty.awaitError());
    }

    @Test
    void withoutAReportPipeItStartsNothing() throws Exception {
        Path marker = tmp.resolve("ran");
        HelperRun run = run("", false, plan("BLVT1", List.of("exec=/bin/touch", "arg=touch", "arg=" + marker, "chdir=/")));
        assertEquals(70, run.exit(), "not started by blivetd: nowhere to report, so nothing to do");
        assertEquals("", run.text());
        assertTrue(Files.notExists(marker));
    }

    /**
     * A helper whose blivetd died before it forked must not fork the job: the next blivetd may
     * have started it again already. The death is seen as a parent other than the plan's (the
     * kernel's parent-death signal covers a death after the check); this JVM is the helper's parent.
     */
    @Test
    void aHelperWhoseBlivetdIsGoneForksNothing() throws Exception {
        long self = ProcessHandle.current().pid();
        Path marker = tmp.resolve("ran");
        HelperRun orphan = run("exec=/bin/touch", "arg=touch", "arg=" + marker, "chdir=/", "parent=1");
        assertEquals(70, orphan.exit());
        assertEquals("E70 internal error: the blivetd that spawned the helper is gone (its parent is now pid " + self
                + "): the job was not forked", orphan.awaitError());
        assertEquals(1, orphan.text().lines().count(), "one line, and no fork: " + orphan.text());
        assertTrue(Files.notExists(marker));

        HelperRun child = run("exec=/bin/touch", "arg=touch", "arg=" + marker, "chdir=/", "parent=" + self);
        assertEquals(0, child.exit(), child.text());
        Await.until(HelperRun.WAIT, () -> Files.exists(marker), "the job ran: its parent is the one the plan names");
    }
}
