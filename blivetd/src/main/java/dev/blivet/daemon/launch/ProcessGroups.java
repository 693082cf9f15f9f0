package dev.blivet.daemon.launch;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
        for (int child : childrenInGroup(pgid)) {
            if (signalAnchoredBy(child, pgid, signal)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the main process or any member of the group is still an unreaped child of ours. */
    public boolean alive(Integer pgid, Integer mainPid) {
        if (mainPid != null && reaper.whileUnreaped(mainPid, () -> { })) {
            return true;
        }
        if (pgid == null) {
            return false;
        }
        for (int child : childrenInGroup(pgid)) {
            if (reaper.whileUnreaped(child, () -> { })) {
                return true;
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

    /** The reaper collected a child: a group someone waits for may have emptied. */
    public void childReaped() {
        List<Pending> waits;
        synchronized (lock) {
            waits = List.copyOf(pending);
        }
        waits.forEach(this::recheck);
    }

    private void recheck(Pending wait) {
        if (!alive(wait.pgid(), wait.mainPid())) {
            boolean mine;
            synchronized (lock) {
                mine = pending.remove(wait);
            }
            if (mine) {
                wait.then().run();
            }
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

    /** Our own children whose process group is {@code pgid}, from /proc (only on stop paths). */
    private List<Integer> childrenInGroup(int pgid) {
        String self = Long.toString(ProcessHandle.current().pid());
        List<Integer> children = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path entry : entries) {
                try {
                    String stat = Files.readString(entry.resolve("stat"));
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    // fields: state ppid pgrp ...
                    if (fields[1].equals(self) && Integer.parseInt(fields[2]) == pgid) {
                        children.add(Integer.parseInt(entry.getFileName().toString()));
                    }
                } catch (IOException | RuntimeException e) {
                    // gone while we looked
                }
            }
        } catch (IOException e) {
            // no /proc: only the main process anchors
        }
        return children;
    }
}
