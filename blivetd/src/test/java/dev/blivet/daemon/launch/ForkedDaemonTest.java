package dev.blivet.daemon.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.blivet.daemon.testing.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checks a forking job's pid passes before it becomes the job, on a live child of this JVM
 * (which the fixture made a subreaper): its uid, and in cgroup mode its job cgroup's cgroup.procs.
 */
class ForkedDaemonTest {
    @TempDir
    Path tmp;
    Process child;
    ForkedDaemon daemons;

    @BeforeEach
    void startChild() throws Exception {
        child = new ProcessBuilder("/bin/sleep", "1000").start();
        daemons = new ForkedDaemon(Path.of("/proc"), Proc.self(), Fixture.REAPER);
    }

    @AfterEach
    void killChild() {
        child.destroyForcibly(); // the fixture's reaper collects it
    }

    private ForkedDaemon.Check check(int uid, Path cgroup) {
        return daemons.check("/run/x.pid", (int) child.pid(), uid, cgroup);
    }

    @Test
    void aLiveUnclaimedChildOfTheJobsUidIsTheJob() {
        assertEquals(ForkedDaemon.Check.OK, check(-1, null));
        assertEquals(ForkedDaemon.Check.OK, check(Integer.parseInt(new Proc((int) child.pid()).status("Uid").split("\\s+")[0]),
                null));
    }

    @Test
    void aProcessOfAnotherUidIsNever() {
        ForkedDaemon.Check check = check(12345, null);
        assertEquals(ForkedDaemon.Verdict.NEVER, check.verdict());
        String uid = new Proc((int) child.pid()).status("Uid").split("\\s+")[0];
        assertEquals("pidfile /run/x.pid names pid " + child.pid() + ", which runs as uid " + uid
                + ", not as the job's uid 12345",
                check.why());
    }

    @Test
    void inCgroupModeThePidMustBeInTheJobsCgroup() throws Exception {
        Path cgroup = Files.createDirectories(tmp.resolve("job"));
        Files.writeString(cgroup.resolve("cgroup.procs"), "1\n" + (child.pid() + 1) + "\n");
        ForkedDaemon.Check outside = check(-1, cgroup);
        assertEquals(ForkedDaemon.Verdict.NEVER, outside.verdict());
        assertEquals("pidfile /run/x.pid names pid " + child.pid() + ", which is not in the job's cgroup " + cgroup,
                outside.why());
        Files.writeString(cgroup.resolve("cgroup.procs"), "1\n" + child.pid() + "\n");
        assertEquals(ForkedDaemon.Check.OK, check(-1, cgroup));
    }

    @Test
    void aProcessThatIsNotOurChildMayStillBeReparented() {
        int parent = new Proc(Proc.self()).ppid();
        ForkedDaemon.Check check = daemons.check("/run/x.pid", parent, -1, null);
        assertEquals(ForkedDaemon.Verdict.NOT_YET, check.verdict());
        assertEquals("pidfile /run/x.pid names pid " + parent + ", which is not a process of the job (its parent is pid "
                + new Proc(parent).ppid() + ", not blivetd)", check.why());
    }
}
