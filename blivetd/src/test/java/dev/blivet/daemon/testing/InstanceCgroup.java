package dev.blivet.daemon.testing;

import dev.blivet.daemon.cgroup.CgroupNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The cgroup tree a root blivetd makes for itself where none is delegated to it
 * ({@code blivetd-<hash of its socket>} at the top of the cgroup v2 hierarchy, with the keeper and
 * the JVM in {@code supervisor} and each job beside it: docs/architecture.md, "Containment"). Only
 * a blivetd without a keeper removes it at its exit; a keeper's, or one a test killed, stays
 * behind, so a test removes it once it is done: empty, never touching a live process, or, for a
 * test that must leave nothing running whatever happened to it, after killing all it holds.
 */
public final class InstanceCgroup {
    private static final Duration LONG = Duration.ofSeconds(60);

    private InstanceCgroup() {
    }

    /** Where the tree of a root blivetd on {@code socket} is (or would be), or null without cgroup v2. */
    public static Path of(Path socket) throws IOException {
        Path mount = cgroup2Mount();
        return mount == null ? null : mount.resolve(CgroupNames.instance(socket));
    }

    /** Where the whole cgroup v2 hierarchy is mounted (a root blivetd makes its tree there), or null. */
    private static Path cgroup2Mount() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            int dash = line.indexOf(" - ");
            String[] head = line.split(" ");
            if (dash > 0 && line.substring(dash + 3).startsWith("cgroup2 ") && head.length > 4 && head[3].equals("/")) {
                return Path.of(head[4]);
            }
        }
        return null;
    }

    /** The tree's cgroups, deepest first; empty if there is none. */
    private static List<Path> cgroups(Path base) throws IOException {
        if (base == null || !Files.isDirectory(base)) {
            return List.of();
        }
        try (Stream<Path> all = Files.walk(base)) {
            return all.filter(Files::isDirectory).sorted(Comparator.comparingInt(Path::getNameCount).reversed()).toList();
        }
    }

    /** Removes every empty cgroup of the tree (rmdir: the kernel refuses one that holds a process). */
    public static void removeEmpty(Path socket) throws IOException {
        for (Path cgroup : cgroups(of(socket))) {
            try {
                Files.delete(cgroup);
            } catch (IOException busy) {
                // a process still lives in it, or in a child: left as it is
            }
        }
    }

    /**
     * After blivetd's main process ended: once its supervisor leaf is empty too (a keeper's JVM,
     * killed with its keeper, may still be exiting), every empty cgroup of the tree goes.
     */
    public static void removeAfterExit(Path socket) throws IOException {
        Path base = of(socket);
        Path events = base == null ? null : base.resolve(CgroupNames.SUPERVISOR).resolve("cgroup.events");
        if (events == null || !Files.exists(events)) {
            return;
        }
        try {
            Await.until(LONG, () -> {
                try {
                    return Files.readString(events).contains("populated 0");
                } catch (IOException removed) {
                    return true;
                }
            }, "blivetd's keeper and JVM to leave " + events.getParent());
        } catch (AssertionError stillThere) {
            return; // clean-up, not a check: a test that wants it empty says so itself
        }
        removeEmpty(socket);
    }

    /** SIGKILLs every process of the tree (jobs, keeper, JVM, whatever they forked), then removes it. */
    public static void killAllAndRemove(Path socket) throws IOException {
        Path base = of(socket);
        Await.until(LONG, () -> {
            List<Long> pids = new ArrayList<>();
            try {
                for (Path cgroup : cgroups(base)) {
                    for (String pid : Files.readAllLines(cgroup.resolve("cgroup.procs"))) {
                        pids.add(Long.parseLong(pid.trim()));
                    }
                }
            } catch (IOException removedMeanwhile) {
                return false; // a cgroup emptied and removed while it was read: list again
            }
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            return pids.isEmpty();
        }, "every process of " + base + " to be gone");
        removeEmpty(socket);
    }
}
