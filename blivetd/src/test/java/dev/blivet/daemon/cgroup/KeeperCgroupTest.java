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
 * blivetd's keeper (its parent, named by BLIVET_KEEPER_FD) moves with it into the leaf
 * "supervisor", so that no process of blivetd's sits beside the jobs' cgroups. A shell stands in
 * for the keeper: it stays blivetd's parent and passes SIGTERM on.
 */
class KeeperCgroupTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void theKeeperMovesIntoSupervisorWithBlivetd() throws IOException {
        List<String> keeper = List.of("/usr/bin/env", "BLIVET_KEEPER_FD=9", "/bin/sh", "-c",
                "trap 'kill $child; wait $child' TERM; \"$@\" & child=$!; wait $child", "keeper");
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
