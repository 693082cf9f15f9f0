package dev.blivet.daemon.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.common.JobSpecJson;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import dev.blivet.common.ResourceLimits;
import dev.blivet.common.SpecException;
import dev.blivet.daemon.launch.ExitStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits where the machine has the controller (the kernel enforces them and status can say why
 * the job died) and where it does not (validation refuses them, saying why). Each test takes the
 * branch this machine allows, and both branches assert.
 */
class CgroupLimitsTest {
    private static final Path PROC_SELF_CGROUP = Path.of("/proc/self/cgroup");

    @TempDir
    Path tmp;

    /** Where cgroup2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified in the hybrid layout), or null. */
    static Path v2Mount() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] halves = line.split(" - ", 2);
            if (halves.length == 2 && halves[1].startsWith("cgroup2 ")) {
                return Path.of(halves[0].split(" ")[4]);
            }
        }
        return null;
    }

    private static CgroupLimits machine() throws IOException {
        Path root = v2Mount();
        return root == null ? CgroupLimits.uncontained() : CgroupLimits.detect(root, PROC_SELF_CGROUP);
    }

    private static boolean boundToV1(String controller) throws IOException {
        for (String line : Files.readAllLines(PROC_SELF_CGROUP)) {
            String[] parts = line.split(":", 3);
            if (!parts[0].equals("0") && List.of(parts[1].split(",")).contains(controller)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void whyNotSaysWhyForEachMode() {
        assertEquals(Optional.of("memory_max needs the cgroup v2 memory controller, and there is no cgroup: blivetd"
                + " runs without containment"), CgroupLimits.uncontained().whyNot("memory_max", "memory"));
        CgroupLimits hybrid = new CgroupLimits(Path.of("/sys/fs/cgroup/unified/blivet"), Set.of("hugetlb"),
                Set.of("memory", "pids", "cpu"));
        assertEquals(Optional.of("memory_max needs the cgroup v2 memory controller, which this machine binds to"
                + " cgroup v1"), hybrid.whyNot("memory_max", "memory"));
        CgroupLimits bare = new CgroupLimits(Path.of("/sys/fs/cgroup/blivet"), Set.of("cpu", "io"), Set.of());
        assertEquals(Optional.of("tasks_max needs the cgroup v2 pids controller, which /sys/fs/cgroup/blivet does not"
                + " offer (cgroup.controllers: cpu io)"), bare.whyNot("tasks_max", "pids"));
        assertEquals(Optional.empty(), bare.whyNot("cpu_weight", "cpu"));
    }

    @Test
    void detectReadsTheParentsControllersAndTheV1Bindings() throws IOException {
        Path parent = Files.createDirectories(tmp.resolve("parent"));
        Files.writeString(parent.resolve("cgroup.controllers"), "cpu io memory\n");
        Path cgroupFile = Files.writeString(tmp.resolve("cgroup"), "4:pids:/x\n3:cpuset,cpuacct:/\n0::/blivet\n");
        CgroupLimits detected = CgroupLimits.detect(parent, cgroupFile);
        assertEquals(Set.of("cpu", "io", "memory"), detected.controllers());
        assertEquals(Set.of("pids", "cpuset", "cpuacct"), detected.boundToV1());
    }

    @Test
    void applyWritesEachLimitToItsFile() throws IOException {
        Path cgroup = Files.createDirectories(tmp.resolve("job"));
        for (String file : List.of("memory.max", "pids.max", "cpu.max", "cpu.weight")) {
            Files.writeString(cgroup.resolve(file), "max\n");
        }
        CgroupLimits.apply(cgroup, new ResourceLimits(64L << 20, 32, 150, 50));
        assertEquals("67108864", Files.readString(cgroup.resolve("memory.max")).strip());
        assertEquals("32", Files.readString(cgroup.resolve("pids.max")).strip());
        assertEquals("150000 100000", Files.readString(cgroup.resolve("cpu.max")).strip());
        assertEquals("50", Files.readString(cgroup.resolve("cpu.weight")).strip());
        Files.delete(cgroup.resolve("pids.max"));
        IOException e = assertThrows(IOException.class, () -> CgroupLimits.apply(cgroup, new ResourceLimits(null, 8, null, null)));
        assertTrue(e.getMessage().contains("cannot apply tasks_max") && e.getMessage().contains("pids.max"), e.getMessage());
    }

    @Test
    void aJobOverItsMemoryLimitIsKilledAndSaidSoOrTheLimitIsRefusedSayingWhy() throws Exception {
        CgroupLimits machine = machine();
        Optional<String> why = machine.whyNot("memory_max", "memory");
        if (why.isPresent()) {
            // This machine cannot apply it: validation says why, with this machine's reason.
            Path root = v2Mount();
            String reason = root == null ? "there is no cgroup" : boundToV1("memory") ? "which this machine binds to cgroup v1"
                    : "which " + root + " does not offer";
            assertTrue(why.get().startsWith("memory_max needs the cgroup v2 memory controller") && why.get().contains(reason),
                    why.get());
            JobSpecResolver resolver = new JobSpecResolver(new NativeAccounts(), Map.of()).withLimitSupport(machine);
            SpecException e = assertThrows(SpecException.class, () -> resolver.resolve(new JobSpecJson().parse(
                    "{\"name\":\"big\",\"command\":[\"/bin/true\"],\"memory_max\":\"32M\"}")));
            assertEquals("invalid job spec: 'memory_max': " + why.get(), e.getMessage());
            return;
        }
        // The kernel enforces it: a job allocating past memory_max is OOM-killed, and said so.
        Path cgroup = jobCgroup(machine, "memory");
        try {
            CgroupLimits.apply(cgroup, new ResourceLimits(32L << 20, null, null, null));
            if (Files.exists(cgroup.resolve("memory.swap.max"))) {
                Files.writeString(cgroup.resolve("memory.swap.max"), "0");
            }
            Process hog = new ProcessBuilder("/usr/bin/python3", "-c", "import os\n"
                    + "open('" + cgroup.resolve("cgroup.procs") + "', 'w').write(str(os.getpid()))\n"
                    + "hog = b'x' * (256 << 20)\n").start();
            assertTrue(hog.waitFor(60, TimeUnit.SECONDS), "the hog ends");
            assertEquals(128 + 9, hog.exitValue(), "killed by SIGKILL");
            assertEquals(Optional.of("killed: memory limit (memory_max; 1 oom_kill)"),
                    LimitKills.reason(cgroup, new ExitStatus(-1, 9, false)));
            assertTrue(CgroupUsage.read(cgroup).memoryPeak() == null || CgroupUsage.read(cgroup).memoryPeak() <= 32L << 20);
        } finally {
            Files.deleteIfExists(cgroup);
        }
    }

    @Test
    void aJobOverItsTasksLimitCannotForkOrTheLimitIsRefusedSayingWhy() throws Exception {
        CgroupLimits machine = machine();
        Optional<String> why = machine.whyNot("tasks_max", "pids");
        if (why.isPresent()) {
            assertTrue(why.get().startsWith("tasks_max needs the cgroup v2 pids controller, "), why.get());
            return;
        }
        Path cgroup = jobCgroup(machine, "pids");
        try {
            CgroupLimits.apply(cgroup, new ResourceLimits(null, 4, null, null));
            Process forker = new ProcessBuilder("/usr/bin/python3", "-c", "import os, signal, time\n"
                    + "open('" + cgroup.resolve("cgroup.procs") + "', 'w').write(str(os.getpid()))\n"
                    + "children, failed = [], 0\n"
                    + "for i in range(10):\n"
                    + "    try:\n"
                    + "        pid = os.fork()\n"
                    + "    except OSError:\n"
                    + "        failed += 1\n"
                    + "        continue\n"
                    + "    if pid == 0:\n"
                    + "        time.sleep(60)\n"
                    + "        os._exit(0)\n"
                    + "    children.append(pid)\n"
                    + "for pid in children:\n"
                    + "    os.kill(pid, signal.SIGKILL)\n"
                    + "    os.waitpid(pid, 0)\n"
                    + "os._exit(0 if failed > 0 and len(children) <= 3 else 1)\n").start();
            assertTrue(forker.waitFor(60, TimeUnit.SECONDS), "the forker ends");
            assertEquals(0, forker.exitValue(), "at most 3 children beside it, the other forks failed");
            assertTrue(LimitKills.tasksLimitHits(cgroup) > 0, "pids.events counts the refused forks");
        } finally {
            Files.deleteIfExists(cgroup);
        }
    }

    /** A fresh child of the jobs' parent with {@code controller} enabled for it, as blivetd's job cgroups are. */
    private static Path jobCgroup(CgroupLimits machine, String controller) throws IOException {
        Files.writeString(machine.jobsParent().resolve("cgroup.subtree_control"), "+" + controller);
        return Files.createDirectory(machine.jobsParent().resolve("blivet-limits-test-" + ProcessHandle.current().pid()));
    }
}
