package dev.blivet.daemon.supervisor;

import dev.blivet.daemon.launch.FileId;
import dev.blivet.daemon.launch.LaunchResult;

/**
 * What a started run leaves the supervisor besides its pid: the notify channels that must be
 * drained for the job's life, and the pidfile to remove after it. blivetd's implementation is
 * {@link NativeRunChannels}; SupervisorTest's holds nothing.
 */
public interface RunChannels extends AutoCloseable {
    /** A run's notify channels, drained until released. */
    interface Held {
        /** The run's latest sd-notify STATUS= text, or null. */
        String status();

        /** The run is over: stop draining and close its channels. */
        void release();
    }

    /**
     * Takes over {@code started}'s notify fd and socket.
     *
     * @param onStatus runs on another thread when the job may have sent a new STATUS=
     */
    Held hold(LaunchResult.Started started, Runnable onStatus);

    /** Closes what a run nobody wants any more left open. */
    void discard(LaunchResult.Started started);

    /** Removes {@code pidfile} if its name still refers to {@code written}, the file the run's helper wrote. */
    void removePidfile(String pidfile, FileId written, int pid);

    @Override
    default void close() {
    }
}
