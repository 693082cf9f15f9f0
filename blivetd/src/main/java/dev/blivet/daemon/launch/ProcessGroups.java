package dev.blivet.daemon.launch;

import dev.blivet.daemon.proc.ProcStat;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Signals a job's process group without ever reaching a stranger. A group's id cannot be handed
 * to a new process while any member exists, so the group is signalled only while one of our own
 * unreaped children is verifiably in it: the job's main process, or, once that is gone, any of
 * its descendants that were orphaned and reparented to blivetd.
 *
 * <p>This is the fallback where no cgroup v2 is writable (docs/architecture.md, "Containment").
 * A group is alive, for blivetd, while an unreaped child of ours is in it. Not kill(-pgid, 0):
 * once the group empties, its number may be a stranger's new group before we look. An unreaped
 * child (even a zombie) keeps the number taken, and blivetd is a subreaper, so every member
 * whose parent dies becomes our child: the group is empty exactly when its last such child is
 * reaped, which the reaper tells {@link #childReaped()} after every reap, so waiting for it costs no polling.
 * What this cannot see: a member whose ancestors up to us all left the group (setpgid), and
 * anything that left the session with setsid().
 */
public final class ProcessGroups {
    private final NativeOs os;
    private final Reaper reaper;
    private final Object lock = new Object();
    /** Waiters for groups to empty, re-checked after each reap. */
    private final List<Pending> pending = new ArrayList<>();

    private record Pending(Integer pgid, Integer mainPid, Runnable then) {
    }

    private static final Runnable NOTHING = () -> { };

    public ProcessGroups(NativeOs os, Reaper reaper) {
        this.os = os;
        this.reaper = reaper;
    }

    /**
     * Sends {@code signal} to the group {@code pgid}, anchored by {@code mainPid} if it is still
     * an unreaped member, else by another unreaped child of ours in that group.
     *
     * @return whether a living member anchored the group (false: nothing of it is left to signal)
     */
    public boolean signalGroup(int pgid, int mainPid, int signal) {
        if (mainPid > 0 && signalAnchoredBy(mainPid, pgid, signal)) {
            return true;
        }
        for (int child : childrenByGroup().getOrDefault(pgid, List.of())) {
            if (signalAnchoredBy(child, pgid, signal)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the main process or any member of the group is still an unreaped child of ours. */
    public boolean alive(Integer pgid, Integer mainPid) {
        return mainAlive(mainPid) || pgid != null && anyUnreaped(childrenByGroup().get(pgid));
    }

    private boolean mainAlive(Integer mainPid) {
        return mainPid != null && reaper.whileUnreaped(mainPid, NOTHING);
    }

    private boolean anyUnreaped(List<Integer> children) {
        if (children != null) {
            for (int child : children) {
                if (reaper.whileUnreaped(child, NOTHING)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Runs {@code then} once when {@link #alive} turns false (at once if it is false now). */
    public void whenEmpty(Integer pgid, Integer mainPid, Runnable then) {
        Pending wait = new Pending(pgid, mainPid, then);
        synchronized (lock) {
            pending.add(wait);
        }
        recheck(wait); // after adding: a reap meanwhile re-checks it too, and remove() decides who runs it
    }

    /**
     * The reaper collected a child: a group someone waits for may have emptied. This runs after
     * every reap, and a user's stops of a job's leftovers can each add a waiter, so /proc is
     * read once for all of them and each group is looked at once, however many wait for it.
     */
    public void childReaped() {
        List<Pending> waits;
        synchronized (lock) {
            if (pending.isEmpty()) {
                return;
            }
            waits = List.copyOf(pending);
        }
        Map<Integer, List<Integer>> children = childrenByGroup();
        Map<Integer, Boolean> groupsAlive = new HashMap<>();
        for (Pending wait : waits) {
            if (mainAlive(wait.mainPid())) {
                continue;
            }
            if (wait.pgid() != null) {
                Boolean groupAlive = groupsAlive.get(wait.pgid());
                if (groupAlive == null) {
                    groupAlive = anyUnreaped(children.get(wait.pgid()));
                    groupsAlive.put(wait.pgid(), groupAlive);
                }
                if (groupAlive) {
                    continue;
                }
            }
            finish(wait);
        }
    }

    private void recheck(Pending wait) {
        if (!alive(wait.pgid(), wait.mainPid())) {
            finish(wait);
        }
    }

    /** Runs the waiter's action, unless a concurrent re-check already took it: remove() decides. */
    private void finish(Pending wait) {
        boolean mine;
        synchronized (lock) {
            mine = pending.remove(wait);
        }
        if (mine) {
            wait.then().run();
        }
    }

    /** Sends {@code signal} to {@code pid} only while it is our unreaped child. */
    public boolean signalProcess(int pid, int signal) {
        return reaper.whileUnreaped(pid, () -> os.libc().kill(pid, signal));
    }

    private boolean signalAnchoredBy(int anchor, int pgid, int signal) {
        boolean[] sent = {false};
        reaper.whileUnreaped(anchor, () -> {
            if (os.libc().getpgid(anchor) == pgid) {
                sent[0] = os.libc().kill(-pgid, signal) == 0;
            }
        });
        return sent[0];
    }

    /** Our own children by their process group, from one read of /proc (only on stop paths). */
    private Map<Integer, List<Integer>> childrenByGroup() {
        long self = ProcessHandle.current().pid();
        Map<Integer, List<Integer>> children = new HashMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path entry : entries) {
                ProcStat stat;
                try {
                    stat = ProcStat.of(Integer.parseInt(entry.getFileName().toString()));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (stat != null && stat.ppid() == self) { // else gone while we looked, or not ours
                    children.computeIfAbsent(stat.pgid(), group -> new ArrayList<>()).add(stat.pid());
                }
            }
        } catch (IOException | java.nio.file.DirectoryIteratorException e) {
            // no /proc, or it could not be read to the end: only the main process, or what was read, anchors
        }
        return children;
    }
}
