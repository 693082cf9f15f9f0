package dev.blivet.daemon.supervisor;

import dev.blivet.daemon.launch.ProcessGroups;

/**
 * Signals a job's processes. blivetd's implementation is {@link ProcessGroups}, which reaches a
 * pid or a group only while an unreaped child of ours proves it is still the job's
 * (docs/architecture.md, Rule 2); a late or stale number reaches nobody.
 */
public interface ProcessControl {
    /** To the group {@code pgid}, anchored by {@code mainPid} or another unreaped child in it. */
    void signalGroup(int pgid, int mainPid, int signal);

    /** To {@code pid} alone, while it is our unreaped child. */
    void signalProcess(int pid, int signal);

    static ProcessControl of(ProcessGroups groups) {
        return new ProcessControl() {
            @Override
            public void signalGroup(int pgid, int mainPid, int signal) {
                groups.signalGroup(pgid, mainPid, signal);
            }

            @Override
            public void signalProcess(int pid, int signal) {
                groups.signalProcess(pid, signal);
            }
        };
    }
}
