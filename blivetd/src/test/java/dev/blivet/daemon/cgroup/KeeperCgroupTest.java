package dev.blivet.daemon.cgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * blivetd's keeper (its parent, proven by the link BLIVET_KEEPER_FD names) moves with it into the
 * leaf "supervisor", so that no process of blivetd's sits beside the jobs' cgroups; a parent the
 * variable merely names (no link) stays where it is.
 */
class KeeperCgroupTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    /** The test runner is blivetd's parent here: a variable naming no link must not move it. */
    @Test
    void aParentTheVariableNamesWithoutALinkStaysWhereItIs() throws IOException {
        String before = ContainmentTest.cgroupOf((int) ProcessHandle.current().pid());
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp, java.util.Map.of("BLIVET_KEEPER_FD", "9"))) {
            Await.until(WAIT, () -> daemon.log().contains("containment: cgroup v2, made by root"), daemon.log());
            assertEquals(true, ContainmentTest.cgroupOf(daemon.pid()).endsWith("/supervisor"), daemon.log());
            assertEquals(before, ContainmentTest.cgroupOf((int) ProcessHandle.current().pid()), "the test runner was not moved");
        }
    }

    @Test
    void theKeeperMovesIntoSupervisorWithBlivetd() throws IOException {
        List<String> keeper = List.of(System.getProperty("blivet.keeper"), "--");
        Path base = null;
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp, keeper, System.getProperty("java.class.path"))) {
            Await.until(WAIT, () -> daemon.log().contains("containment: cgroup v2, made by root"), daemon.log());
            int jvm = (int) ProcessHandle.of(daemon.pid()).orElseThrow().children().findFirst().orElseThrow().pid();
            String supervisor = ContainmentTest.cgroupOf(jvm);
            assertEquals(supervisor, ContainmentTest.cgroupOf(daemon.pid()), "the keeper is where blivetd is");
            assertEquals(true, supervisor.endsWith("/supervisor"), supervisor);
            base = ContainmentTest.cgroup2Mount().resolve(supervisor.substring(4)).getParent();
        } finally {
            // With a keeper, blivetd leaves its cgroup to the next JVM: the test removes it.
            if (base != null) {
                Path dir = base;
                Await.until(WAIT, () -> {
                    try {
                        return Files.readString(dir.resolve("cgroup.events")).contains("populated 0");
                    } catch (IOException e) {
                        return true;
                    }
                }, "the keeper and blivetd to be gone");
                Files.deleteIfExists(dir.resolve("supervisor"));
                Files.deleteIfExists(dir);
            }
        }
    }
}
