package dev.blivet.daemon.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The helper forks the daemon into the job's cgroup (fd 6, "cgroup=1"; clone3 with
 * CLONE_INTO_CGROUP, else a join before the fork), and a join that fails is a reported step,
 * worded in Java: a directory that is no cgroup fails the clone, then the join.
 */
class HelperCgroupTest {
    @TempDir
    Path tmp;
    Path cgroup;

    @AfterEach
    void removeCgroup() throws Exception {
        if (cgroup != null && Files.isDirectory(cgroup)) {
            Await.until(HelperRun.WAIT, () -> {
                try {
                    return Files.readString(cgroup.resolve("cgroup.events")).contains("populated 0");
                } catch (java.io.IOException e) {
                    return true;
                }
            }, "the test cgroup to empty");
            Files.delete(cgroup);
        }
    }

    private static List<String> sleeper(String chdir) {
        return List.of("exec=/bin/sleep", "arg=sleep", "arg=100011", "chdir=" + chdir, "cgroup=1");
    }

    @Test
    void theDaemonIsBornInTheJobsCgroup() throws Exception {
        Path mount = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            if (line.contains(" - cgroup2 ")) {
                mount = Path.of(line.split(" ")[4]);
            }
        }
        assertTrue(mount != null, "this machine has a cgroup2 mount");
        cgroup = Files.createDirectory(mount.resolve("blivet-test-helper-" + ProcessHandle.current().pid()));
        HelperRun run = HelperRun.run(tmp, "exec 6<'" + cgroup + "';", true, HelperRun.plan("BLVT1", sleeper("/")));
        assertEquals(0, run.exit());
        int pid = Integer.parseInt(run.awaitLine("P").substring(1));
        try {
            String line = Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup")).stream()
                    .filter(l -> l.startsWith("0::")).findFirst().orElseThrow();
            assertEquals("0::/" + mount.relativize(cgroup), line);
            assertEquals(pid + "\n", Files.readString(cgroup.resolve("cgroup.procs")), "the intermediate left with its exit");
        } finally {
            new ProcessBuilder("kill", "-9", Integer.toString(pid)).start().waitFor();
        }
    }

    @Test
    void aJoinThatFailsIsReportedAndWordedInJava() throws Exception {
        // A plain directory: no cgroup.procs in it.
        HelperRun run = HelperRun.run(tmp, "exec 6<'" + tmp + "';", true, HelperRun.plan("BLVT1", sleeper("/")));
        assertEquals(HelperProtocol.HELPER_FAILED.code(), run.exit());
        assertEquals("E71 os error: cannot move the job into its cgroup (writing cgroup.procs of the directory on fd 6):"
                + " No such file or directory", run.awaitError());
        assertTrue(!run.text().contains("\nF"), "nothing was forked: " + run.text());
    }

    @Test
    void aPlanAskingForACgroupWithoutTheFdIsRefused() throws Exception {
        HelperRun run = HelperRun.run(tmp, sleeper("/"));
        assertEquals(HelperProtocol.HELPER_FAILED.code(), run.exit());
        assertTrue(run.awaitError().contains("cgroup requested but fd 6 is not open"), run.text());
    }
}
