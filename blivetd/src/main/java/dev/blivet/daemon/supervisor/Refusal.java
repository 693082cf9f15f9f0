package dev.blivet.daemon.supervisor;

import dev.blivet.common.ExitCode;
import dev.blivet.common.protocol.JobState;
import java.time.Duration;
import java.util.Set;

/**
 * Why the supervisor did not do what was asked, as facts; the server words them for the wire
 * (server.Replies), so nothing of the protocol reaches the core.
 */
public sealed interface Refusal {
    /** No job of that name that the caller may see (another user's job is not there to it either). */
    record NotFound(String name, boolean removedWhileWaiting) implements Refusal {
    }

    /** The name is another user's job; whose, and in what state, is not told. */
    record NameTaken(String name) implements Refusal {
    }

    /** Root sent a new spec for a job another uid owns. */
    record OwnedByOther(String name, int owner) implements Refusal {
    }

    /** The job's state forbids the request. */
    record Conflict(String name, JobState state, Kind kind) implements Refusal {
        public enum Kind {
            /** A start with a different spec while a process runs. */
            DIFFERENT_SPEC,
            /** A start while the job is stopping. */
            STILL_STOPPING,
            /** A signal with no process to receive it. */
            NO_PROCESS,
            /** A removal while a process runs. */
            STILL_RUNNING,
            /**
             * A removal while processes of an earlier run remain (kill_mode "main"): its cgroup
             * would outlive the job, and the next job of that name, anyone's, would inherit it.
             */
            LEFTOVERS
        }
    }

    /** A non-root uid holds {@code held} jobs already, the most {@link Limits} allows. */
    record JobLimit(int uid, long held, int limit) implements Refusal {
    }

    /** A non-root uid has {@code pending} starts pending already, the most {@link Limits} allows. */
    record StartLimit(int uid, int pending, int limit) implements Refusal {
    }

    /** The job did not reach any of {@code states} in time. */
    record WaitTimeout(String name, Set<JobState> states, Duration timeout) implements Refusal {
    }

    /**
     * A start that was waited for failed.
     *
     * @param jobExit how the job ended when it ran and exited, described, else null
     */
    record StartFailed(ExitCode code, String message, String jobExit) implements Refusal {
    }

    record ShuttingDown() implements Refusal {
    }

    /** The request met an exhausted heap or stack on the loop; nothing was changed by it. */
    record OutOfResources(Throwable error) implements Refusal {
    }
}
