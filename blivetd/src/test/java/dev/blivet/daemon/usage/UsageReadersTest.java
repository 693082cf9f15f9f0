package dev.blivet.daemon.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The readers of /proc and cgroup files, on files made to look like them. */
class UsageReadersTest {
    @TempDir
    Path tmp;

    @Test
    void cgroupUsageReadsWhatExistsAndLeavesOutWhatDoesNot() throws IOException {
        Path cgroup = Files.createDirectories(tmp.resolve("job"));
        Files.writeString(cgroup.resolve("cpu.stat"), "usage_usec 1250000\nuser_usec 1000000\nsystem_usec 250000\n");
        Files.writeString(cgroup.resolve("memory.current"), "12582912\n");
        Files.writeString(cgroup.resolve("memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        Files.writeString(cgroup.resolve("pids.current"), "max\n"); // not a number: left out, never guessed
        assertEquals(new JobUsage(1_250_000L, null, 12_582_912L, null, 1L), CgroupUsage.read(cgroup));
        assertEquals(JobUsage.NONE, CgroupUsage.read(null));
    }

    @Test
    void theProcessesOfACgroupAreListedBoundedAndCounted() throws IOException {
        Path proc = Files.createDirectories(tmp.resolve("proc"));
        Path cgroup = Files.createDirectories(tmp.resolve("job"));
        StringBuilder procs = new StringBuilder();
        for (int pid = 100; pid < 100 + ProcessLister.MAX_LISTED + 6; pid++) {
            procs.append(pid).append('\n');
            Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
            Files.write(dir.resolve("cmdline"), ("worker\0--id\0" + pid + "\0").getBytes());
        }
        Files.createDirectories(proc.resolve("101"));
        Files.write(proc.resolve("101").resolve("cmdline"), new byte[0]);
        Files.writeString(proc.resolve("101").resolve("comm"), "kworker\n");
        Files.writeString(cgroup.resolve("cgroup.procs"), procs.toString());
        ProcessLister.Listing listing = new ProcessLister(proc).inCgroup(cgroup);
        assertEquals(ProcessLister.MAX_LISTED + 6, listing.total());
        assertEquals(ProcessLister.MAX_LISTED, listing.processes().size());
        assertEquals(new JobProcess(100, "worker --id 100"), listing.processes().get(0));
        assertEquals(new JobProcess(101, "[kworker]"), listing.processes().get(1));
    }

    @Test
    void withoutACgroupTheJobsSessionsAreListedFromProc() throws IOException {
        Path proc = Files.createDirectories(tmp.resolve("proc"));
        process(proc, 10, "10 (main) S 1 10 10 0", "main");
        process(proc, 11, "11 (child) S 10 10 10 0", "child");
        process(proc, 12, "12 (daemon) S 1 12 12 0", "daemon");
        process(proc, 13, "13 (zombie) Z 10 10 10 0", "zombie");
        process(proc, 14, "14 (stranger) S 1 14 14 0", "stranger");
        ProcessLister.Listing listing = new ProcessLister(proc).inSessions(Set.of(10, 12), 10);
        assertEquals(List.of(new JobProcess(10, "main"), new JobProcess(11, "child"), new JobProcess(12, "daemon")),
                listing.processes().stream().sorted(java.util.Comparator.comparingInt(JobProcess::pid)).toList());
        assertEquals(3, listing.total());
    }

    private static void process(Path proc, int pid, String stat, String cmdline) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("stat"), stat + " -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 0 0\n");
        Files.writeString(dir.resolve("status"), "Uid:\t0\t0\t0\t0\n");
        Files.writeString(dir.resolve("cmdline"), cmdline);
    }
}
