package dev.blivet.daemon.supervisor;

import dev.blivet.common.ResolvedJob;
import dev.blivet.daemon.launch.LaunchCancel;
import dev.blivet.daemon.launch.LaunchResult;
import java.util.concurrent.CompletableFuture;

/**
 * Starts a job's process: {@code Launcher::launch} in blivetd, a fake the test completes in
 * SupervisorTest. The supervisor hears the outcome as an event on its loop, whatever thread
 * completes the future.
 */
@FunctionalInterface
public interface JobStarter {
    /** @param cancel set by a stop that comes while the start is still in progress */
    CompletableFuture<LaunchResult> launch(ResolvedJob job, LaunchCancel cancel);
}
