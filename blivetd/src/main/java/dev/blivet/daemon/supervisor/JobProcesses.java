package dev.blivet.daemon.supervisor;

/**
 * Which processes are a job's, as far as blivetd can tell: its cgroup (found by the name alone),
 * or, without cgroups, its process group while an unreaped child of ours anchors it.
 *
 * @param pgid the process group of the job's latest run (null before its first)
 * @param mainPid the main process while it is unreaped (null after its exit)
 */
public record JobProcesses(String name, Integer pgid, Integer mainPid) {
}
