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
 */
public final class ProcessGroups {
    private final NativeOs os;
    private final Reaper reaper;

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
