package dev.blivet.daemon.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.common.RestartPolicy;
import dev.blivet.common.Supervision;
import dev.blivet.common.protocol.JobState;
import dev.blivet.daemon.launch.ExitStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every transition of the job state machine, without a process in sight. */
class JobLifecycleTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final ExitStatus OK = new ExitStatus(0, 0, false);
    private static final ExitStatus FAIL = new ExitStatus(3, 0, false);
    private static final ExitStatus KILLED = new ExitStatus(-1, 9, false);

    private static Supervision policy(RestartPolicy restart, int limit) {
        return new Supervision(restart, Set.of(0, 7), Duration.ofSeconds(1), Duration.ofSeconds(8), limit,
                Duration.ofSeconds(60), 15, Duration.ofSeconds(10), false, dev.blivet.common.KillMode.ALL);
    }

    /** Jitter pinned to its middle (no change) unless a test says otherwise. */
    private static JobLifecycle lifecycle(RestartPolicy restart, int limit) {
        return new JobLifecycle(policy(restart, limit), () -> 0.5);
    }

    private static JobLifecycle running(RestartPolicy restart, int limit) {
        JobLifecycle job = lifecycle(restart, limit);
        assertInstanceOf(JobLifecycle.Action.Launch.class, job.start());
        assertEquals(JobState.STARTING, job.state());
        job.ready(T0);
        assertEquals(JobState.RUNNING, job.state());
        return job;
    }

    @Test
    void startReadyExitWithoutRestart() {
        JobLifecycle job = running(RestartPolicy.NO, 5);
        job.exited(FAIL, T0.plusSeconds(1));
        assertEquals(JobState.EXITED, job.state());
        assertEquals("exited with exit code 3", job.reason());
    }

    @Test
    void onFailureRestartsOnlyFailures() {
        JobLifecycle job = running(RestartPolicy.ON_FAILURE, 5);
        job.exited(new ExitStatus(7, 0, false), T0.plusSeconds(1));
        assertEquals(JobState.EXITED, job.state(), "7 is a success exit code");

        job = running(RestartPolicy.ON_FAILURE, 5);
        JobLifecycle.Action action = job.exited(KILLED, T0.plusSeconds(1));
        assertEquals(JobState.BACKOFF, job.state(), "a signal is a failure");
        assertEquals(new JobLifecycle.Action.ScheduleRestart(Duration.ofSeconds(1)), action);
        assertInstanceOf(JobLifecycle.Action.Launch.class, job.restartDue());
        assertEquals(JobState.STARTING, job.state());
        assertEquals(1, job.restarts());
    }

    @Test
    void alwaysRestartsEvenAfterSuccess() {
        JobLifecycle job = running(RestartPolicy.ALWAYS, 5);
        assertInstanceOf(JobLifecycle.Action.ScheduleRestart.class, job.exited(OK, T0.plusSeconds(1)));
        assertEquals(JobState.BACKOFF, job.state());
    }

    @Test
    void backoffDoublesUpToItsCap() {
        JobLifecycle job = lifecycle(RestartPolicy.ON_FAILURE, 100);
        job.start();
        long[] expected = {1, 2, 4, 8, 8};
        for (int i = 0; i < expected.length; i++) {
            JobLifecycle.Action action = job.launchFailed(T0.plusSeconds(i), "boom");
            assertEquals(new JobLifecycle.Action.ScheduleRestart(Duration.ofSeconds(expected[i])), action, "failure " + i);
            job.restartDue();
        }
    }

    @Test
    void jitterStaysWithinTwentyPercent() {
        JobLifecycle low = new JobLifecycle(policy(RestartPolicy.ON_FAILURE, 5), () -> 0.0);
        low.start();
        JobLifecycle high = new JobLifecycle(policy(RestartPolicy.ON_FAILURE, 5), () -> 0.999_999);
        high.start();
        Duration lowDelay = ((JobLifecycle.Action.ScheduleRestart) low.launchFailed(T0, "x")).delay();
        Duration highDelay = ((JobLifecycle.Action.ScheduleRestart) high.launchFailed(T0, "x")).delay();
        assertEquals(Duration.ofMillis(800), lowDelay);
        assertTrue(highDelay.compareTo(Duration.ofMillis(1200)) <= 0 && highDelay.compareTo(Duration.ofMillis(1199)) >= 0,
                highDelay.toString());
    }

    @Test
    void restartLimitWithinTheWindowFails() {
        JobLifecycle job = lifecycle(RestartPolicy.ALWAYS, 2);
        job.start();
        job.launchFailed(T0, "no");
        job.restartDue();
        job.launchFailed(T0.plusSeconds(1), "no");
        job.restartDue();
        assertEquals(JobLifecycle.NONE, job.launchFailed(T0.plusSeconds(2), "no"));
        assertEquals(JobState.FAILED, job.state());
        assertTrue(job.reason().startsWith("restart limit reached: 2 restarts within 60 s"), job.reason());
    }

    @Test
    void restartsOutsideTheWindowDoNotCount() {
        JobLifecycle job = lifecycle(RestartPolicy.ALWAYS, 1);
        job.start();
        job.launchFailed(T0, "no");
        job.restartDue();
        assertInstanceOf(JobLifecycle.Action.ScheduleRestart.class, job.launchFailed(T0.plusSeconds(61), "no"));
    }

    @Test
    void manualStartResetsTheBudget() {
        JobLifecycle job = lifecycle(RestartPolicy.ALWAYS, 1);
        job.start();
        job.launchFailed(T0, "no");
        job.restartDue();
        job.launchFailed(T0.plusSeconds(1), "no");
        assertEquals(JobState.FAILED, job.state());
        job.start();
        assertEquals(0, job.restarts());
        assertInstanceOf(JobLifecycle.Action.ScheduleRestart.class, job.launchFailed(T0.plusSeconds(2), "no"));
    }

    @Test
    void stopFromEachState() {
        JobLifecycle job = running(RestartPolicy.ALWAYS, 5);
        assertInstanceOf(JobLifecycle.Action.SignalStop.class, job.stop());
        assertEquals(JobState.STOPPING, job.state());
        assertEquals(JobLifecycle.NONE, job.exited(KILLED, T0), "an exit after a stop is no failure");
        assertEquals(JobState.STOPPED, job.state());

        job = lifecycle(RestartPolicy.ALWAYS, 5);
        job.start();
        assertEquals(JobLifecycle.NONE, job.stop(), "starting: signalled once the launch ends");
        assertEquals(JobState.STOPPING, job.state());
        assertInstanceOf(JobLifecycle.Action.SignalStop.class, job.ready(T0));
        job.exited(OK, T0);
        assertEquals(JobState.STOPPED, job.state());

        job = lifecycle(RestartPolicy.ALWAYS, 5);
        job.start();
        job.stop();
        job.launchFailed(T0, "no");
        assertEquals(JobState.STOPPED, job.state(), "a failed launch after a stop is just stopped");

        job = running(RestartPolicy.ALWAYS, 5);
        job.exited(FAIL, T0);
        assertInstanceOf(JobLifecycle.Action.CancelRestart.class, job.stop());
        assertEquals(JobState.STOPPED, job.state());
        assertEquals(JobLifecycle.NONE, job.restartDue(), "a late timer does nothing");
        assertEquals(JobState.STOPPED, job.state());
    }

    @Test
    void startingAnActiveJobDoesNothing() {
        JobLifecycle job = running(RestartPolicy.NO, 5);
        assertEquals(JobLifecycle.NONE, job.start());
        assertEquals(JobState.RUNNING, job.state());
    }

    @Test
    void launchFailureWithoutRestartIsFailed() {
        JobLifecycle job = lifecycle(RestartPolicy.NO, 5);
        job.start();
        job.launchFailed(T0, "lock conflict: /x is held by pid 1");
        assertEquals(JobState.FAILED, job.state());
        assertEquals("lock conflict: /x is held by pid 1", job.reason());
    }

    // ---- re-adoption (docs/architecture.md, "Custody: the ledger") ----

    @Test
    void anAdoptedJobRunsAndItsPolicyAppliesWhenItEnds() {
        JobLifecycle job = lifecycle(RestartPolicy.ON_FAILURE, 5);
        assertEquals(JobLifecycle.NONE, job.adopted(T0));
        assertEquals(JobState.RUNNING, job.state(), "STOPPED -> RUNNING: its process already runs");
        assertInstanceOf(JobLifecycle.Action.ScheduleRestart.class, job.exited(FAIL, T0.plusSeconds(1)));
        assertEquals(JobState.BACKOFF, job.state());
    }

    @Test
    void anEndNoOneCouldSeeIsAFailureAndNamedSo() {
        JobLifecycle job = lifecycle(RestartPolicy.NO, 5);
        job.adopted(T0);
        job.endedUnknown(T0.plusSeconds(1));
        assertEquals(JobState.EXITED, job.state());
        assertEquals("ended while blivetd was not its parent: exit status unknown", job.reason());

        job = lifecycle(RestartPolicy.ON_FAILURE, 5);
        job.adopted(T0);
        assertInstanceOf(JobLifecycle.Action.ScheduleRestart.class, job.endedUnknown(T0.plusSeconds(1)),
                "on-failure: an unknown end is not a success");

        job = lifecycle(RestartPolicy.ALWAYS, 5);
        job.adopted(T0);
        job.stop();
        job.endedUnknown(T0.plusSeconds(1));
        assertEquals(JobState.STOPPED, job.state(), "a stop under way ends in STOPPED");
    }

    @Test
    void aJobBlivetdCannotVouchForIsFailedAndNeverRestartedByItself() {
        JobLifecycle job = lifecycle(RestartPolicy.ALWAYS, 5);
        assertEquals(JobLifecycle.NONE, job.unknown("cannot tell"));
        assertEquals(JobState.FAILED, job.state());
        assertEquals("cannot tell", job.reason());
        assertInstanceOf(JobLifecycle.Action.Launch.class, job.start(), "its owner may start it");
    }
}
