package dev.blivet.daemon.keeper;

/**
 * One exit the keeper collected: a process that was reparented to it (a job whose blivetd JVM had
 * died) and that it reaped (docs/architecture.md, "Custody").
 *
 * @param pid the process's pid
 * @param startTime field 22 of /proc/PID/stat (clock ticks since boot), read before the reap, so
 *     the record names one process and never a later one that reused the pid
 * @param waitStatus the raw wait status (as waitpid(2) gives it)
 */
public record ExitRecord(int pid, long startTime, int waitStatus) {
}
