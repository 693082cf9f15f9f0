package dev.blivet.daemon.ledger;

import dev.blivet.common.JobSpec;
import dev.blivet.daemon.proc.ProcStat;
import java.io.IOException;

/**
 * What the supervisor tells the ledger, on its loop thread, at each step of a job's custody
 * (docs/architecture.md, "Custody: the ledger"). {@link #none()} records nothing (SupervisorTest).
 */
public interface Recorder {
    /**
     * A job is about to start with {@code spec}: its spec record (desired up) is written when
     * this returns, and durable unless the job comes from the jobs directory, a new job's at the
     * next {@link #flush}. Writes nothing when the record already says so.
     */
    void accepted(String name, int owner, String source, JobSpec spec) throws IOException;

    /** What {@link #accepted} left to make durable is made so; called before any reply shows the job. */
    void flush();

    /** Its owner stopped it (false) or started it (true): durable, so a reboot respects it. */
    void desired(String name, boolean up);

    /** Run {@code attempt} is about to be spawned: recorded before the spawn, without a pid. */
    void starting(String name, long attempt) throws IOException;

    /**
     * The helper reported the run's process: recorded with its pid, group, start time and boot
     * id. {@code process} was read from /proc off the loop ({@link ProcStat#of}); null if the
     * process was gone already, when nothing is recorded.
     */
    void forked(String name, long attempt, ProcStat process);

    /** A re-adopted process: its run record stays as it was read. */
    void adopted(RunRecord record);

    /** The run is ready. */
    void running(String name);

    /** A stop signal is about to be sent: the next JVM finishes the stop. */
    void stopping(String name);

    /** The run ended and the job waits out its restart delay. */
    void backoff(String name, long attempt);

    /** The run ended, with no restart pending: no process of it is recorded any more. */
    void ended(String name);

    /**
     * The run ended by itself (exited or failed) with no restart pending: kept as {@code ended},
     * so that a JVM after a crash does not start it again (autostart is not a restart policy).
     */
    void over(String name, long attempt, dev.blivet.daemon.launch.ExitStatus exit);

    /** The job is forgotten: both records go. */
    void removed(String name);

    /** Test-only crash points (see {@link CrashPoints}). */
    void reached(String point);

    static Recorder none() {
        return new Recorder() {
            @Override
            public void accepted(String name, int owner, String source, JobSpec spec) {
            }

            @Override
            public void flush() {
            }

            @Override
            public void desired(String name, boolean up) {
            }

            @Override
            public void starting(String name, long attempt) {
            }

            @Override
            public void forked(String name, long attempt, ProcStat process) {
            }

            @Override
            public void adopted(RunRecord record) {
            }

            @Override
            public void running(String name) {
            }

            @Override
            public void stopping(String name) {
            }

            @Override
            public void backoff(String name, long attempt) {
            }

            @Override
            public void ended(String name) {
            }

            @Override
            public void over(String name, long attempt, dev.blivet.daemon.launch.ExitStatus exit) {
            }

            @Override
            public void removed(String name) {
            }

            @Override
            public void reached(String point) {
            }
        };
    }
}
