package dev.blivet.daemon.launch;

import dev.blivet.common.ExitCode;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/** The outcome of one start. */
public sealed interface LaunchResult {

    /**
     * The job runs and is ready.
     *
     * @param pid the daemon's pid (blivetd's child, thanks to the subreaper)
     * @param pgid its process group and session, which the helper created: signal it to reach
     *     the job's own children too
     * @param notifyFd the read end of a notify-fd job's pipe, or -1: kept open (and drained) for the
     *     job's life, or its next write to the notify fd would kill it with SIGPIPE
     * @param notifySocket the sd-notify socket the job keeps using for STATUS=, or null; the
     *     caller owns it and closes it when the job is gone
     * @param exit completes when the reaper collects the job's exit status
     * @param pidfile the pidfile blivet-spawn wrote, or null: removed after the exit only if its
     *     name still refers to this file
     * @param output the files the job's stdout and stderr are
     */
    record Started(int pid, int pgid, int notifyFd, Instant startedAt, Instant readyAt, SdNotifySocket notifySocket,
            CompletableFuture<ExitStatus> exit, FileId pidfile, OutputFiles output) implements LaunchResult {
    }

    /**
     * The start failed and nothing of it is left: no process, no pidfile it wrote, no lock.
     *
     * @param jobExit how the job ended when it did run and exited, else null
     * @param output the output files the job had opened before it failed: what it wrote there
     *     is often why it failed
     */
    record Failed(ExitCode code, String message, ExitStatus jobExit, OutputFiles output) implements LaunchResult {
        public Failed(ExitCode code, String message, ExitStatus jobExit) {
            this(code, message, jobExit, OutputFiles.NONE);
        }
    }
}
