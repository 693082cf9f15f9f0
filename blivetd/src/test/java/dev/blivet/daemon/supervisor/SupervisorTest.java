package dev.blivet.daemon.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.common.ExitCode;
import dev.blivet.common.JobSpec;
import dev.blivet.common.Readiness;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.KillMode;
import dev.blivet.common.RestartPolicy;
import dev.blivet.common.Supervision;
import dev.blivet.common.protocol.JobState;
import dev.blivet.daemon.Log;
import dev.blivet.daemon.launch.ExitStatus;
import dev.blivet.daemon.launch.FileId;
import dev.blivet.daemon.launch.LaunchCancel;
import dev.blivet.daemon.launch.LaunchResult;
import dev.blivet.daemon.launch.OutputFiles;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every lifecycle edge of the supervisor, driven with fakes: a starter whose results the test
 * completes, process control that records signals, run channels that hold nothing and a manual
 * clock for every timer. The test's own thread is the loop ({@link EventLoop#runPending}): no
 * root, no fork, no sleep.
 */
class SupervisorTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final int ROOT = 0;
    private static final int ALICE = 1000;
    private static final int BOB = 1001;
    private static final int SIGTERM = 15;
    private static final int SIGKILL = 9;
    private static final ExitStatus OK = new ExitStatus(0, 0, false);
    private static final ExitStatus FAIL = new ExitStatus(3, 0, false);
    private static final Duration DELAY = Duration.ofSeconds(1);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final ManualTime time = new ManualTime();
    private final FakeStarter starter = new FakeStarter();
    private final FakeProcesses processes = new FakeProcesses();
    private final FakeChannels channels = new FakeChannels();
    private EventLoop loop;
    private Supervisor supervisor;
    private int nextPid = 100;

    @BeforeEach
    void setUp() {
        Log log = new Log(new PrintStream(OutputStream.nullOutputStream()), Log.Level.ERROR);
        loop = new EventLoop(log);
        // Jitter pinned to its middle: a restart delay is exactly restart_delay doubled per failure.
        supervisor = new Supervisor(starter, processes, channels, time, time, () -> 0.5, loop, log, ROOT,
                new Limits(3, 2));
    }

    // ---- start ----

    @Test
    void startAnswersOnceTheJobIsReady() {
        CompletableFuture<JobSnapshot> start = start("web", RestartPolicy.NO, ALICE, true);
        loop.runPending();
        assertFalse(start.isDone(), "a waited start answers at readiness, not at launch");
        assertEquals(JobState.STARTING, status("web", ALICE).state());
        assertEquals(1, starter.launches.size());

        int pid = ready(starter.last());
        JobSnapshot running = done(start);
        assertEquals(JobState.RUNNING, running.state());
        assertEquals(pid, running.pid());
        assertEquals(ALICE, running.owner());
        assertEquals(JobState.RUNNING, status("web", ALICE).state(), "status agrees with the reply");
    }

    @Test
    void aStartWithoutWaitAnswersAtOnce() {
        JobSnapshot snapshot = done(start("web", RestartPolicy.NO, ALICE, false));
        assertEquals(JobState.STARTING, snapshot.state());
    }

    @Test
    void aFailedLaunchFailsTheWaitedStartWithItsCode() {
        CompletableFuture<JobSnapshot> start = start("web", RestartPolicy.NO, ALICE, true);
        loop.runPending();
        starter.last().result.complete(new LaunchResult.Failed(ExitCode.CANT_CREATE, "cannot create /var/log/x", null));
        Refusal.StartFailed failed = assertInstanceOf(Refusal.StartFailed.class, refusal(start));
        assertEquals(ExitCode.CANT_CREATE, failed.code());
        assertEquals("cannot create /var/log/x", failed.message());
        JobSnapshot status = status("web", ALICE);
        assertEquals(JobState.FAILED, status.state());
        assertEquals("cannot create /var/log/x", status.lastError());
    }

    @Test
    void aStarterThatThrowsStillReportsBack() {
        starter.throwNext = true;
        Refusal.StartFailed failed = assertInstanceOf(Refusal.StartFailed.class,
                refusal(start("web", RestartPolicy.NO, ALICE, true)));
        assertEquals(ExitCode.SOFTWARE, failed.code());
        assertEquals(JobState.FAILED, status("web", ALICE).state(), "never STARTING for ever");
    }

    // ---- exits and restart policies ----

    @Test
    void eachRestartPolicyDecidesAfterAnExit() {
        assertEquals(JobState.EXITED, stateAfterExit("no-ok", RestartPolicy.NO, OK));
        assertEquals(JobState.EXITED, stateAfterExit("no-fail", RestartPolicy.NO, FAIL));
        assertEquals(JobState.EXITED, stateAfterExit("onf-ok", RestartPolicy.ON_FAILURE, OK));
        assertEquals(JobState.BACKOFF, stateAfterExit("onf-fail", RestartPolicy.ON_FAILURE, FAIL));
        assertEquals(JobState.BACKOFF, stateAfterExit("always-ok", RestartPolicy.ALWAYS, OK));
        assertEquals(JobState.BACKOFF, stateAfterExit("always-fail", RestartPolicy.ALWAYS, FAIL));
        assertEquals(List.of("/run/no-ok.pid", "/run/no-fail.pid", "/run/onf-ok.pid", "/run/onf-fail.pid",
                "/run/always-ok.pid", "/run/always-fail.pid"), channels.removedPidfiles, "each run's pidfile goes after its exit");
    }

    private JobState stateAfterExit(String name, RestartPolicy policy, ExitStatus exit) {
        done(start(name, policy, ROOT, false));
        ready(starter.last());
        starter.last().exit.complete(exit);
        loop.runPending();
        JobSnapshot snapshot = status(name, ROOT);
        assertNull(snapshot.pid(), "a reaped pid is nobody's to show");
        return snapshot.state();
    }

    @Test
    void backoffDoublesOnTheManualClockUntilTheRestartLimit() {
        done(start("crashy", RestartPolicy.ALWAYS, ALICE, false)); // limit 2 within the window
        for (int attempt = 0; attempt < 2; attempt++) {
            ready(starter.last());
            starter.last().exit.complete(FAIL);
            loop.runPending();
            assertEquals(JobState.BACKOFF, status("crashy", ALICE).state());
            Duration delay = DELAY.multipliedBy(1L << attempt);
            int launches = starter.launches.size();
            advance(delay.minusMillis(1));
            assertEquals(launches, starter.launches.size(), "no restart before the delay " + delay);
            advance(Duration.ofMillis(1));
            assertEquals(launches + 1, starter.launches.size(), "the restart comes at the delay " + delay);
            assertEquals(JobState.STARTING, status("crashy", ALICE).state());
        }
        ready(starter.last());
        starter.last().exit.complete(FAIL);
        loop.runPending();
        JobSnapshot failed = status("crashy", ALICE);
        assertEquals(JobState.FAILED, failed.state());
        assertTrue(failed.lastError().startsWith("restart limit reached: 2 restarts"), failed.lastError());
        assertEquals(2, failed.restarts());
        advance(Duration.ofHours(1));
        assertEquals(3, starter.launches.size(), "nothing restarts a FAILED job");
    }

    @Test
    void aFailedLaunchIsRestartedByPolicyToo() {
        done(start("web", RestartPolicy.ON_FAILURE, ALICE, false));
        starter.last().result.complete(new LaunchResult.Failed(ExitCode.JOB_EXITED, "exited before ready", FAIL));
        loop.runPending();
        assertEquals(JobState.BACKOFF, status("web", ALICE).state());
        advance(DELAY);
        assertEquals(2, starter.launches.size());
    }

    // ---- stop ----

    @Test
    void stopWhileRunningSignalsThenKillsAfterTheStopTimeout() {
        done(start("web", RestartPolicy.ALWAYS, ALICE, false));
        int pid = ready(starter.last());
        CompletableFuture<JobSnapshot> stop = supervisor.stop("web", ALICE, null, null);
        loop.runPending();
        assertEquals(List.of(group(pid, SIGTERM), process(pid, SIGTERM)), processes.sent);
        assertFalse(stop.isDone(), "a stop answers once the job is reaped");
        assertEquals(JobState.STOPPING, status("web", ALICE).state());

        advance(STOP_TIMEOUT.minusMillis(1));
        assertEquals(2, processes.sent.size(), "no SIGKILL before stop_timeout");
        advance(Duration.ofMillis(1));
        assertEquals(List.of(group(pid, SIGKILL), process(pid, SIGKILL)), processes.sent.subList(2, 4));

        starter.last().exit.complete(new ExitStatus(-1, SIGKILL, false));
        JobSnapshot stopped = done(stop);
        assertEquals(JobState.STOPPED, stopped.state());
        assertEquals(SIGKILL, stopped.exitSignal());
        advance(Duration.ofHours(1));
        assertEquals(1, starter.launches.size(), "a stopped job is not restarted by its policy");
    }

    @Test
    void aStopAnswersOnlyOnceTheRestOfTheJobIsGoneToo() {
        done(start("web", RestartPolicy.ALWAYS, ALICE, false));
        ready(starter.last());
        processes.populated.add("web");
        CompletableFuture<JobSnapshot> stop = supervisor.stop("web", ALICE, null, null);
        loop.runPending();
        starter.last().exit.complete(OK);
        loop.runPending();
        assertFalse(stop.isDone(), "the main process is gone, a child of it is not");
        assertEquals(JobState.STOPPING, status("web", ALICE).state());
        advance(STOP_TIMEOUT);
        assertTrue(processes.sent.contains("all web " + SIGKILL), "SIGKILL to every process after stop_timeout: "
                + processes.sent);
        processes.emptied("web");
        loop.runPending();
        assertEquals(JobState.STOPPED, done(stop).state());
        assertEquals(List.of("web"), processes.released, "its cgroup goes once it is empty");
    }

    @Test
    void leftoversAfterTheMainExitAreStoppedBeforeTheRestart() {
        done(start("web", RestartPolicy.ALWAYS, ALICE, false));
        ready(starter.last());
        processes.populated.add("web");
        starter.last().exit.complete(FAIL);
        loop.runPending();
        assertEquals(JobState.RUNNING, status("web", ALICE).state(), "not exited while its processes live");
        assertEquals(List.of("all web " + SIGTERM), processes.sent);
        advance(Duration.ofHours(1));
        assertEquals(1, starter.launches.size(), "no restart while they live");
        assertTrue(processes.sent.contains("all web " + SIGKILL), processes.sent.toString());
        processes.emptied("web");
        loop.runPending();
        assertEquals(JobState.BACKOFF, status("web", ALICE).state());
        advance(Duration.ofHours(1));
        assertEquals(2, starter.launches.size(), "restarted once nothing of the last run was left");
    }

    @Test
    void killModeMainKeepsLeftoversAndTheNextStartStopsThemFirst() {
        supervisor.start(spec("keep", "/bin/keep", RestartPolicy.NO), resolved("keep", "/bin/keep", RestartPolicy.NO,
                false, KillMode.MAIN), ALICE, false);
        loop.runPending();
        ready(starter.last());
        processes.populated.add("keep");
        starter.last().exit.complete(OK);
        loop.runPending();
        assertEquals(JobState.EXITED, status("keep", ALICE).state(), "kill_mode main: the exit is final at once");
        assertTrue(processes.sent.isEmpty(), "and nothing is signalled");

        CompletableFuture<JobSnapshot> again = start("keep", RestartPolicy.NO, ALICE, false);
        loop.runPending();
        assertEquals(JobState.STARTING, done(again).state());
        assertEquals(1, starter.launches.size(), "the launch waits for the leftovers");
        assertEquals(List.of("all keep " + SIGTERM), processes.sent);
        processes.emptied("keep");
        loop.runPending();
        assertEquals(2, starter.launches.size(), "launched once they are gone");
    }

    @Test
    void aJobWithLeftoversCannotBeRemovedSoNoOneElseInheritsThem() {
        supervisor.start(spec("keep", "/bin/keep", RestartPolicy.NO), resolved("keep", "/bin/keep", RestartPolicy.NO,
                false, KillMode.MAIN), ALICE, false);
        loop.runPending();
        ready(starter.last());
        processes.populated.add("keep");
        starter.last().exit.complete(OK);
        loop.runPending();
        Refusal.Conflict refused = assertInstanceOf(Refusal.Conflict.class, refusal(supervisor.remove("keep", ALICE)));
        assertEquals(Refusal.Conflict.Kind.LEFTOVERS, refused.kind(), "another user's job of this name would clear them");
        assertEquals(JobState.EXITED, status("keep", ALICE).state(), "still the owner's");
        processes.emptied("keep");
        loop.runPending();
        done(supervisor.remove("keep", ALICE));
    }

    @Test
    void aStopWithItsOwnSignalAndTimeout() {
        done(start("web", RestartPolicy.NO, ALICE, false));
        int pid = ready(starter.last());
        CompletableFuture<JobSnapshot> stop = supervisor.stop("web", ALICE, 1, Duration.ofSeconds(2));
        loop.runPending();
        assertEquals(List.of(group(pid, 1), process(pid, 1)), processes.sent);
        starter.last().exit.complete(OK);
        assertEquals(JobState.STOPPED, done(stop).state());
        advance(Duration.ofSeconds(2));
        assertEquals(2, processes.sent.size(), "the kill timer went with the exit");
    }

    @Test
    void stopWhileStartingCancelsTheLaunch() {
        CompletableFuture<JobSnapshot> start = start("web", RestartPolicy.ALWAYS, ALICE, true);
        loop.runPending();
        CompletableFuture<JobSnapshot> stop = supervisor.stop("web", ALICE, null, null);
        loop.runPending();
        assertTrue(starter.last().cancel.requested(), "the launch is told to give up");
        assertEquals(JobState.STOPPING, status("web", ALICE).state());
        assertFalse(stop.isDone());

        starter.last().result.complete(new LaunchResult.Failed(ExitCode.JOB_EXITED, "start cancelled", null));
        assertEquals(JobState.STOPPED, done(stop).state());
        assertInstanceOf(Refusal.StartFailed.class, refusal(start));
        assertTrue(processes.sent.isEmpty());
        advance(Duration.ofHours(1));
        assertEquals(1, starter.launches.size(), "not restarted");
    }

    @Test
    void aLaunchThatSucceedsDespiteTheStopIsStoppedAtOnce() {
        done(start("web", RestartPolicy.ALWAYS, ALICE, false));
        CompletableFuture<JobSnapshot> stop = supervisor.stop("web", ALICE, null, null);
        loop.runPending();
        int pid = ready(starter.last()); // the cancel came too late: the job is up
        assertEquals(List.of(group(pid, SIGTERM), process(pid, SIGTERM)), processes.sent);
        advance(STOP_TIMEOUT);
        assertEquals(List.of(group(pid, SIGKILL), process(pid, SIGKILL)), processes.sent.subList(2, 4));
        starter.last().exit.complete(new ExitStatus(-1, SIGKILL, false));
        assertEquals(JobState.STOPPED, done(stop).state());
    }

    // ---- restart, reload, remove ----

    @Test
    void restartStopsThenStartsAndWaitsForReadiness() {
        done(start("web", RestartPolicy.NO, ALICE, false));
        int first = ready(starter.last());
        CompletableFuture<JobSnapshot> restart = supervisor.restart("web", ALICE);
        loop.runPending();
        assertEquals(List.of(group(first, SIGTERM), process(first, SIGTERM)), processes.sent);
        starter.last().exit.complete(new ExitStatus(-1, SIGTERM, false));
        loop.runPending();
        assertEquals(2, starter.launches.size());
        assertFalse(restart.isDone());
        int second = ready(starter.last());
        assertEquals(second, done(restart).pid());
    }

    @Test
    void aJobWhoseFileComesBackWhileItStopsForAReloadIsKept() {
        done(supervisor.applyJobsDirectory(scan(entry("svc", "/bin/one"))));
        ready(starter.last());
        done(supervisor.applyJobsDirectory(scan()));
        assertEquals(JobState.STOPPING, status("svc", ROOT).state());
        done(supervisor.applyJobsDirectory(scan(entry("svc", "/bin/one"))));
        starter.last().exit.complete(OK);
        loop.runPending();
        assertEquals(JobState.STOPPED, status("svc", ROOT).state(), "its file is there: it is kept, stopped");
    }

    @Test
    void aReloadWhileAJobStartsChangesItsNextStartAndRemovesItOnlyOnceStopped() {
        JobsDirectory.Scan scan = scan(entry("svc", "/bin/one"));
        ReloadReport report = done(supervisor.applyJobsDirectory(scan));
        assertEquals(List.of("svc"), report.added());
        assertEquals(JobState.STARTING, status("svc", ROOT).state(), "autostart");
        assertEquals("/bin/one", starter.last().job.program());

        ReloadReport changed = done(supervisor.applyJobsDirectory(scan(entry("svc", "/bin/two"))));
        assertEquals(List.of("svc"), changed.changed());
        assertEquals(1, starter.launches.size(), "the start in progress goes on");
        int pid = ready(starter.last());
        assertEquals(JobState.RUNNING, status("svc", ROOT).state());

        ReloadReport removed = done(supervisor.applyJobsDirectory(scan()));
        assertEquals(List.of("svc"), removed.removed());
        assertEquals(JobState.STOPPING, status("svc", ROOT).state(), "stopped first, removed once down");
        assertEquals(List.of(group(pid, SIGTERM), process(pid, SIGTERM)), processes.sent);
        starter.last().exit.complete(OK);
        loop.runPending();
        assertInstanceOf(Refusal.NotFound.class, refusal(supervisor.status("svc", ROOT)));
    }

    @Test
    void aReloadKeepsClientJobsAndAnIncompleteScanRemovesNothing() {
        done(start("mine", RestartPolicy.NO, ALICE, false));
        done(supervisor.applyJobsDirectory(scan(entry("svc", "/bin/one"))));
        ReloadReport taken = done(supervisor.applyJobsDirectory(scan(entry("svc", "/bin/one"), entry("mine", "/bin/x"))));
        assertTrue(taken.errors().get("/jobs/mine.json").contains("is taken by a job uid 1000 started"),
                taken.errors().toString());
        ReloadReport incomplete = done(supervisor.applyJobsDirectory(new JobsDirectory.Scan(Map.of(), Map.of(), false)));
        assertEquals(List.of(), incomplete.removed());
        assertEquals(JobState.STARTING, status("svc", ROOT).state());
    }

    @Test
    void removeRefusesARunningJobAndTellsWaitersOfARemovedOne() {
        done(start("web", RestartPolicy.NO, ALICE, false));
        ready(starter.last());
        Refusal.Conflict running = assertInstanceOf(Refusal.Conflict.class, refusal(supervisor.remove("web", ALICE)));
        assertEquals(Refusal.Conflict.Kind.STILL_RUNNING, running.kind());

        starter.last().exit.complete(OK);
        loop.runPending();
        CompletableFuture<JobSnapshot> wait = supervisor.waitFor("web", ALICE, Set.of(JobState.RUNNING), Duration.ofSeconds(30));
        loop.runPending();
        assertFalse(wait.isDone());
        assertEquals(JobState.STOPPED, done(supervisor.remove("web", ALICE)).state(), "acknowledged, then removed");
        assertEquals(new Refusal.NotFound("web", true), refusal(wait), "the waiter hears that its job is gone");
        assertEquals(new Refusal.NotFound("web", false), refusal(supervisor.status("web", ALICE)));
    }

    @Test
    void aRemovedJobsRestartTimerStartsNothing() {
        done(start("web", RestartPolicy.ALWAYS, ALICE, false));
        ready(starter.last());
        starter.last().exit.complete(FAIL);
        loop.runPending();
        assertEquals(JobState.BACKOFF, status("web", ALICE).state());
        done(supervisor.remove("web", ALICE));
        done(start("web", RestartPolicy.NO, ALICE, false)); // a new job of the same name
        advance(Duration.ofHours(1));
        assertEquals(2, starter.launches.size(), "only the new job's own start");
    }

    // ---- wait ----

    @Test
    void anAnsweredWaitLeavesNoTimerBehind() {
        int before = time.live();
        done(start("web", RestartPolicy.NO, ALICE, false));
        CompletableFuture<JobSnapshot> ready = supervisor.waitFor("web", ALICE, Set.of(JobState.RUNNING), Duration.ofDays(1));
        CompletableFuture<JobSnapshot> gone = supervisor.waitFor("web", ALICE, Set.of(JobState.FAILED), Duration.ofDays(1));
        loop.runPending();
        assertEquals(before + 2, time.live());
        ready(starter.last());
        assertEquals(JobState.RUNNING, done(ready).state());
        starter.last().exit.complete(OK);
        loop.runPending();
        done(supervisor.remove("web", ALICE));
        assertInstanceOf(Refusal.NotFound.class, refusal(gone));
        // A pending timer holds its waiter and the job for a day: a client making waits and jobs
        // faster than that filled the heap.
        assertEquals(before, time.live(), "both wait timers cancelled once their waits were answered");
    }

    @Test
    void waitAnswersAtTheStateOrTimesOutOnTheManualClock() {
        done(start("web", RestartPolicy.NO, ALICE, false));
        CompletableFuture<JobSnapshot> ready = supervisor.waitFor("web", ALICE, Set.of(JobState.RUNNING), Duration.ofSeconds(5));
        CompletableFuture<JobSnapshot> never = supervisor.waitFor("web", ALICE, Set.of(JobState.FAILED), Duration.ofSeconds(5));
        loop.runPending();
        ready(starter.last());
        assertEquals(JobState.RUNNING, done(ready).state());

        advance(Duration.ofMillis(4999));
        assertFalse(never.isDone());
        advance(Duration.ofMillis(1));
        Refusal.WaitTimeout timeout = assertInstanceOf(Refusal.WaitTimeout.class, refusal(never));
        assertEquals(Set.of(JobState.FAILED), timeout.states());
        assertEquals(Duration.ofSeconds(5), timeout.timeout());
    }

    // ---- need to know ----

    @Test
    void anotherUsersJobDoesNotExistToThem() {
        done(start("alices", RestartPolicy.NO, ALICE, false));
        int pid = ready(starter.last());
        Refusal missing = refusal(supervisor.status("nosuch", BOB));
        assertEquals(new Refusal.NotFound("nosuch", false), missing);
        assertEquals(new Refusal.NotFound("alices", false), refusal(supervisor.status("alices", BOB)));
        assertEquals(new Refusal.NotFound("alices", false), refusal(supervisor.stop("alices", BOB, null, null)));
        assertEquals(new Refusal.NotFound("alices", false), refusal(supervisor.signal("alices", BOB, SIGKILL, true)));
        assertEquals(new Refusal.NotFound("alices", false), refusal(supervisor.remove("alices", BOB)));
        assertEquals(new Refusal.NotFound("alices", false), refusal(supervisor.start("alices", BOB, false)));
        assertEquals(new Refusal.NotFound("alices", false), refusal(supervisor.output("alices", BOB)));
        assertEquals(new Refusal.NotFound("alices", false),
                refusal(supervisor.waitFor("alices", BOB, Set.of(JobState.STOPPED), Duration.ofSeconds(1))));
        assertEquals(new Refusal.NameTaken("alices"), refusal(start("alices", RestartPolicy.NO, BOB, false)),
                "the name is taken, whose it is is not told");
        assertEquals(List.of(), done(supervisor.list(BOB)));
        assertEquals(List.of("alices"), done(supervisor.list(ROOT)).stream().map(JobSnapshot::name).toList());
        assertTrue(processes.sent.isEmpty(), "nothing reached alice's process");

        done(supervisor.signal("alices", ROOT, 1, false));
        assertEquals(List.of(process(pid, 1)), processes.sent, "root may; without group, only the main process");
        Refusal.OwnedByOther owned = assertInstanceOf(Refusal.OwnedByOther.class,
                refusal(supervisor.start(spec("alices", "/bin/other", RestartPolicy.NO), resolved("alices", "/bin/other",
                        RestartPolicy.NO), ROOT, false)));
        assertEquals(ALICE, owned.owner());
    }

    // ---- per-user limits and the restart queue ----

    @Test
    void jobAndStartLimitsRefuseNonRootUsersOnly() {
        done(start("a1", RestartPolicy.NO, ALICE, false));
        done(start("a2", RestartPolicy.NO, ALICE, false));
        assertEquals(new Refusal.StartLimit(ALICE, 2, 2), refusal(start("a3", RestartPolicy.NO, ALICE, false)));
        assertInstanceOf(Refusal.NotFound.class, refusal(supervisor.status("a3", ALICE)), "a refusal leaves nothing behind");
        done(start("b1", RestartPolicy.NO, BOB, false)); // another user is not held up
        ready(starter.launches.get(0));
        done(start("a3", RestartPolicy.NO, ALICE, false));
        assertEquals(new Refusal.JobLimit(ALICE, 3, 3), refusal(start("a4", RestartPolicy.NO, ALICE, false)));
        for (int i = 0; i < 5; i++) {
            done(start("root" + i, RestartPolicy.NO, ROOT, false)); // root is not limited
        }
    }

    @Test
    void aRestartPastTheStartLimitWaitsItsTurn() {
        done(start("crashy", RestartPolicy.ALWAYS, ALICE, false));
        Launch crashy = starter.last();
        ready(crashy);
        done(start("slow1", RestartPolicy.NO, ALICE, false));
        Launch slow1 = starter.last();
        done(start("slow2", RestartPolicy.NO, ALICE, false));
        crashy.exit.complete(FAIL);
        loop.runPending();
        advance(DELAY);
        assertEquals(JobState.STARTING, status("crashy", ALICE).state());
        assertEquals(3, starter.launches.size(), "alice has two starts pending: the restart waits");

        ready(slow1);
        assertEquals(4, starter.launches.size(), "one of alice's starts ended: the restart goes");
        assertEquals("crashy", starter.last().job.name());
    }

    @Test
    void stoppingAQueuedRestartEndsItsRun() {
        done(start("crashy", RestartPolicy.ALWAYS, ALICE, false));
        ready(starter.last());
        done(start("slow1", RestartPolicy.NO, ALICE, false));
        done(start("slow2", RestartPolicy.NO, ALICE, false));
        starter.launches.get(0).exit.complete(FAIL);
        loop.runPending();
        advance(DELAY);
        JobSnapshot stopped = done(supervisor.stop("crashy", ALICE, null, null));
        assertEquals(JobState.STOPPED, stopped.state());
        ready(starter.launches.get(1));
        assertEquals(3, starter.launches.size(), "a stopped restart does not start when its turn comes");
    }

    // ---- events ----

    @Test
    void subscribersSeeTheChangesTheirUidMaySee() {
        List<JobSnapshot> alices = new ArrayList<>();
        List<JobSnapshot> roots = new ArrayList<>();
        List<JobSnapshot> quitter = new ArrayList<>();
        done(supervisor.subscribe(subscriber(ALICE, alices, true)));
        done(supervisor.subscribe(subscriber(ROOT, roots, true)));
        done(supervisor.subscribe(subscriber(BOB, quitter, false)));

        done(start("web", RestartPolicy.NO, ALICE, false));
        ready(starter.last());
        done(start("bobs", RestartPolicy.NO, BOB, false));
        done(start("bobs2", RestartPolicy.NO, BOB, false));
        assertEquals(List.of("web STARTING", "web RUNNING"), describe(alices));
        assertEquals(List.of("web STARTING", "web RUNNING", "bobs STARTING", "bobs2 STARTING"), describe(roots));
        assertEquals(List.of("bobs STARTING"), describe(quitter), "a subscriber that refuses one is dropped");
    }

    @Test
    void aNewStatusFromTheJobIsPublished() {
        List<JobSnapshot> seen = new ArrayList<>();
        done(supervisor.subscribe(subscriber(ALICE, seen, true)));
        done(start("web", RestartPolicy.NO, ALICE, false));
        ready(starter.last());
        channels.status = "serving 3 clients";
        channels.onStatus.run();
        loop.runPending();
        assertEquals("serving 3 clients", seen.get(seen.size() - 1).status());
        assertEquals("serving 3 clients", status("web", ALICE).status());
    }

    @Test
    void stopAllStopsEveryJobAndRefusesLaterRequests() {
        done(start("a", RestartPolicy.ALWAYS, ALICE, false));
        int a = ready(starter.last());
        done(start("b", RestartPolicy.NO, BOB, false));
        CompletableFuture<List<JobSnapshot>> all = supervisor.stopAll();
        loop.runPending();
        assertTrue(processes.sent.contains(group(a, SIGTERM)));
        assertTrue(starter.last().cancel.requested());
        starter.launches.get(0).exit.complete(OK);
        starter.last().result.complete(new LaunchResult.Failed(ExitCode.JOB_EXITED, "start cancelled", null));
        assertEquals(List.of(JobState.STOPPED, JobState.STOPPED), done(all).stream().map(JobSnapshot::state).toList());
        supervisor.close();
        assertEquals(new Refusal.ShuttingDown(), refusal(supervisor.list(ROOT)));
    }

    // ---- helpers ----

    private static List<String> describe(List<JobSnapshot> snapshots) {
        return snapshots.stream().map(s -> s.name() + " " + s.state()).toList();
    }

    private static Subscriber subscriber(int uid, List<JobSnapshot> into, boolean keep) {
        return new Subscriber() {
            @Override
            public int uid() {
                return uid;
            }

            @Override
            public boolean offer(JobSnapshot change) {
                into.add(change);
                return keep;
            }
        };
    }

    @Test
    void rootStartingAUsersJobWithItsVerySpecStartsItAsTheOwnerResolvedIt() {
        JobSpec spec = spec("esc", "/bin/esc", RestartPolicy.NO);
        ResolvedJob forAlice = resolved("esc", "/bin/esc", RestartPolicy.NO);
        ResolvedJob forRoot = resolved("esc", "/bin/esc-as-root", RestartPolicy.NO);
        done(supervisor.start(spec, forAlice, ALICE, false));
        ready(starter.launches.get(0));
        CompletableFuture<JobSnapshot> stopped = supervisor.stop("esc", ALICE, null, null);
        loop.runPending();
        starter.launches.get(0).exit.complete(OK);
        done(stopped);

        done(supervisor.start(spec, forRoot, ROOT, false));
        assertSame(forAlice, starter.launches.get(1).job(), "root's resolution would run alice's job as root");
        assertEquals(ALICE, status("esc", ROOT).owner());
    }

    private CompletableFuture<JobSnapshot> start(String name, RestartPolicy policy, int uid, boolean wait) {
        return supervisor.start(spec(name, "/bin/" + name, policy), resolved(name, "/bin/" + name, policy), uid, wait);
    }

    /** A spec of its name, command and restart policy: the supervisor compares specs, it does not read them. */
    private static JobSpec spec(String name, String program, RestartPolicy policy) {
        return new JobSpec(name, List.of(program), null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, policy, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    private static ResolvedJob resolved(String name, String program, RestartPolicy policy) {
        return resolved(name, program, policy, false);
    }

    private static ResolvedJob resolved(String name, String program, RestartPolicy policy, boolean autostart) {
        return resolved(name, program, policy, autostart, KillMode.ALL);
    }

    private static ResolvedJob resolved(String name, String program, RestartPolicy policy, boolean autostart,
            KillMode killMode) {
        Supervision supervision = new Supervision(policy, Set.of(0), DELAY, Duration.ofSeconds(8), 2,
                Duration.ofSeconds(60), SIGTERM, STOP_TIMEOUT, autostart, killMode);
        return new ResolvedJob(name, program, List.of(program), List.of(), 022, null, null, null, null, false, null,
                "/run/" + name + ".pid", null, List.of(), Readiness.EXEC, -1, Duration.ofSeconds(5), Duration.ZERO, false,
                supervision);
    }

    private static JobsDirectory.Entry entry(String name, String program) {
        return new JobsDirectory.Entry(Path.of("/jobs/" + name + ".json"), spec(name, program, RestartPolicy.NO),
                resolved(name, program, RestartPolicy.NO, true));
    }

    private static JobsDirectory.Scan scan(JobsDirectory.Entry... entries) {
        Map<String, JobsDirectory.Entry> jobs = new java.util.TreeMap<>();
        for (JobsDirectory.Entry entry : entries) {
            jobs.put(entry.spec().name(), entry);
        }
        return new JobsDirectory.Scan(jobs, Map.of(), true);
    }

    private JobSnapshot status(String name, int uid) {
        return done(supervisor.status(name, uid));
    }

    /** Completes the launch as ready; returns the job's pid. */
    private int ready(Launch launch) {
        int pid = nextPid++;
        launch.result.complete(started(pid, launch));
        loop.runPending();
        return pid;
    }

    private LaunchResult.Started started(int pid, Launch launch) {
        return new LaunchResult.Started(pid, pid, -1, time.instant(), time.instant(), null, launch.exit,
                new FileId(1, pid), OutputFiles.NONE);
    }

    private void advance(Duration by) {
        time.advance(by, loop);
    }

    private <T> T done(CompletableFuture<T> future) {
        loop.runPending();
        assertTrue(future.isDone(), "answered");
        return future.join();
    }

    private Refusal refusal(CompletableFuture<?> future) {
        loop.runPending();
        assertTrue(future.isCompletedExceptionally(), "refused");
        try {
            future.join();
            throw new AssertionError("not refused");
        } catch (CompletionException e) {
            return assertInstanceOf(Refused.class, e.getCause()).refusal();
        }
    }

    private static String group(int pid, int signal) {
        return "group " + pid + " (anchor " + pid + ") " + signal;
    }

    private static String process(int pid, int signal) {
        return "pid " + pid + " " + signal;
    }

    // ---- fakes ----

    private record Launch(ResolvedJob job, LaunchCancel cancel, CompletableFuture<LaunchResult> result,
            CompletableFuture<ExitStatus> exit) {
    }

    private static final class FakeStarter implements JobStarter {
        final List<Launch> launches = new ArrayList<>();
        boolean throwNext;

        @Override
        public CompletableFuture<LaunchResult> launch(ResolvedJob job, LaunchCancel cancel) {
            if (throwNext) {
                throwNext = false;
                throw new IllegalStateException("starter broke");
            }
            Launch launch = new Launch(job, cancel, new CompletableFuture<>(), new CompletableFuture<>());
            launches.add(launch);
            return launch.result;
        }

        Launch last() {
            return launches.get(launches.size() - 1);
        }
    }

    private static final class FakeProcesses implements ProcessControl {
        final List<String> sent = new ArrayList<>();

        @Override
        public void signalGroup(int pgid, int mainPid, int signal) {
            sent.add("group " + pgid + " (anchor " + mainPid + ") " + signal);
        }

        @Override
        public void signalProcess(int pid, int signal) {
            sent.add("pid " + pid + " " + signal);
        }

        /** Jobs (by name) with processes besides the main one: the test empties them with {@link #emptied}. */
        final java.util.Set<String> populated = new java.util.HashSet<>();
        final java.util.Map<String, List<Runnable>> emptyWaiters = new java.util.HashMap<>();
        final List<String> released = new ArrayList<>();

        @Override
        public boolean contained() {
            return true;
        }

        @Override
        public void signalAll(JobProcesses job, int signal) {
            // While the main process lives, as the fallback records it (its group, and it); after, "all".
            if (job.mainPid() == null) {
                sent.add("all " + job.name() + " " + signal);
                return;
            }
            if (job.pgid() != null) {
                signalGroup(job.pgid(), job.mainPid(), signal);
            }
            signalProcess(job.mainPid(), signal);
        }

        @Override
        public void killAll(JobProcesses job) {
            signalAll(job, SIGKILL);
        }

        @Override
        public boolean populated(JobProcesses job) {
            return populated.contains(job.name());
        }

        @Override
        public void whenEmpty(JobProcesses job, Runnable then) {
            if (!populated.contains(job.name())) {
                then.run();
            } else {
                emptyWaiters.computeIfAbsent(job.name(), name -> new ArrayList<>()).add(then);
            }
        }

        @Override
        public void release(String name) {
            released.add(name);
        }

        void emptied(String name) {
            populated.remove(name);
            List<Runnable> waiters = emptyWaiters.remove(name);
            if (waiters != null) {
                waiters.forEach(Runnable::run);
            }
        }
    }

    private static final class FakeChannels implements RunChannels {
        final List<String> removedPidfiles = new ArrayList<>();
        final List<Integer> discarded = new ArrayList<>();
        String status;
        Runnable onStatus;

        @Override
        public Held hold(LaunchResult.Started started, Runnable onStatus) {
            this.onStatus = onStatus;
            return new Held() {
                @Override
                public String status() {
                    return status;
                }

                @Override
                public void release() {
                }
            };
        }

        @Override
        public void discard(LaunchResult.Started started) {
            discarded.add(started.pid());
        }

        @Override
        public void removePidfile(String pidfile, FileId written, int pid) {
            assertEquals(new FileId(1, pid), written, "only the file this run's helper wrote");
            removedPidfiles.add(pidfile);
        }
    }

    /** A clock that moves only when told, and the timers it fires, in order of their due time. */
    private static final class ManualTime extends Clock implements Timers {
        private record Task(Instant due, long order, Runnable task, boolean[] cancelled) {
        }

        private Instant now = T0;
        private long order;
        private final List<Task> tasks = new ArrayList<>();

        @Override
        public Timer schedule(Duration delay, Runnable task) {
            boolean[] cancelled = {false};
            tasks.add(new Task(now.plus(delay), order++, task, cancelled));
            return () -> cancelled[0] = true;
        }

        /** Timers neither fired nor cancelled. */
        int live() {
            return (int) tasks.stream().filter(t -> !t.cancelled[0]).count();
        }

        /** Moves the clock, firing each due timer at its own time and running what it posted. */
        void advance(Duration by, EventLoop loop) {
            Instant end = now.plus(by);
            while (true) {
                Task next = tasks.stream().filter(t -> !t.due.isAfter(end))
                        .min(Comparator.comparing(Task::due).thenComparingLong(Task::order)).orElse(null);
                if (next == null) {
                    break;
                }
                tasks.remove(next);
                now = next.due;
                if (!next.cancelled[0]) {
                    next.task.run();
                    loop.runPending();
                }
            }
            now = end;
            loop.runPending();
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    // ---- the ledger and re-adoption (docs/architecture.md, "Custody: the ledger") ----

    /** Records what the supervisor tells the ledger, in order. */
    private static final class RecordingLedger implements dev.blivet.daemon.ledger.Recorder {
        final List<String> calls = new ArrayList<>();

        @Override
        public void accepted(String name, int owner, String source, JobSpec spec) {
            calls.add("accepted " + name);
        }

        @Override
        public void flush() {
            calls.add("flush");
        }

        @Override
        public void desired(String name, boolean up) {
            calls.add("desired " + name + " " + (up ? "up" : "down"));
        }

        @Override
        public void starting(String name, long attempt) {
            calls.add("starting " + name + " " + attempt);
        }

        @Override
        public void forked(String name, long attempt, dev.blivet.daemon.proc.ProcStat process) {
            calls.add("forked " + name + " " + (process == null ? "gone" : process.pid()));
        }

        @Override
        public void adopted(dev.blivet.daemon.ledger.RunRecord record) {
            calls.add("adopted " + record.name());
        }

        @Override
        public void running(String name) {
            calls.add("running " + name);
        }

        @Override
        public void stopping(String name) {
            calls.add("stopping " + name);
        }

        @Override
        public void backoff(String name, long attempt) {
            calls.add("backoff " + name + " " + attempt);
        }

        @Override
        public void over(String name, long attempt, ExitStatus exit) {
            calls.add("over " + name + " " + attempt);
        }

        @Override
        public void ended(String name) {
            calls.add("ended " + name);
        }

        @Override
        public void removed(String name) {
            calls.add("removed " + name);
        }

        @Override
        public void reached(String point) {
        }
    }

    private RecordingLedger withLedger() {
        RecordingLedger ledger = new RecordingLedger();
        Log log = new Log(new PrintStream(OutputStream.nullOutputStream()), Log.Level.ERROR);
        supervisor = new Supervisor(starter, processes, channels, time, time, () -> 0.5, loop, log, ROOT,
                new Limits(3, 2), ledger);
        return ledger;
    }

    private void restore(String name, RestartPolicy policy, boolean autostart, dev.blivet.daemon.ledger.Verdict verdict) {
        done(supervisor.restore(List.of(new Supervisor.Restored(name, ALICE, "client", spec(name, "/bin/" + name, policy),
                resolved(name, "/bin/" + name, policy, autostart), true, verdict, null))));
    }

    @Test
    void theLedgerHearsOfEachStepBeforeItIsVisible() {
        RecordingLedger ledger = withLedger();
        CompletableFuture<JobSnapshot> start = start("web", RestartPolicy.NO, ALICE, true);
        loop.runPending();
        assertEquals(List.of("accepted web", "starting web 1", "flush", "desired web up"), ledger.calls,
                "the spec, then the intent, then the spec's fsyncs and the marker's unlink while the helper is spawned");
        Launch launch = starter.last();
        assertTrue(launch.cancel().isRecorded(), "the launch may spawn once the intent is recorded");
        ready(launch);
        done(start);
        // The pid came with the helper's fork report (ActionRunner.forked); only a forking job's
        // daemon, known at readiness, is recorded again then.
        assertEquals(List.of("accepted web", "starting web 1", "flush", "desired web up", "running web"), ledger.calls);
        CompletableFuture<JobSnapshot> stop = supervisor.stop("web", ALICE, null, null);
        loop.runPending();
        assertEquals(List.of("desired web down", "stopping web"), ledger.calls.subList(5, 7),
                "the stop is durable before the signal");
        launch.exit().complete(new ExitStatus(-1, SIGTERM, false));
        loop.runPending();
        done(stop);
        done(supervisor.remove("web", ALICE));
        assertEquals(List.of("ended web", "removed web"), ledger.calls.subList(7, 9));
    }

    /** Answered "starting" before it is recorded: the marker's unlink is the owner's intent until dispatch. */
    @Test
    void aStartThatClearsLeftoversFirstRecordsTheOwnersIntentWhenItIsAccepted() {
        RecordingLedger ledger = withLedger();
        supervisor.start(spec("keep", "/bin/keep", RestartPolicy.NO), resolved("keep", "/bin/keep", RestartPolicy.NO,
                false, KillMode.MAIN), ALICE, false);
        loop.runPending();
        ready(starter.last());
        CompletableFuture<JobSnapshot> stop = supervisor.stop("keep", ALICE, null, null);
        loop.runPending();
        starter.last().exit.complete(new ExitStatus(-1, SIGTERM, false));
        loop.runPending();
        done(stop);
        processes.populated.add("keep"); // a child of the job that outlived it (kill_mode main)
        ledger.calls.clear();

        assertEquals(JobState.STARTING, done(start("keep", RestartPolicy.NO, ALICE, false)).state());
        assertEquals(List.of("accepted keep", "flush", "desired keep up"), ledger.calls,
                "no start is recorded while the leftovers are stopped, so the spec is made durable and the marker goes"
                        + " when the start is answered");
        processes.emptied("keep");
        loop.runPending();
        assertEquals(List.of("accepted keep", "flush", "desired keep up", "starting keep 2", "flush", "desired keep up"),
                ledger.calls);
    }

    @Test
    void restoredJobsFollowTheirVerdicts() {
        RecordingLedger ledger = withLedger();
        restore("crashed", RestartPolicy.ALWAYS, false, new dev.blivet.daemon.ledger.Verdict.Ended(77, null, 3, false));
        JobSnapshot crashed = status("crashed", ALICE);
        assertEquals(JobState.BACKOFF, crashed.state(), "its restart policy applies to an end no one saw");
        assertEquals("ended while blivetd was not its parent: exit status unknown", crashed.lastError());
        assertEquals(null, crashed.exitCode(), "never a guessed exit code");

        restore("stopping", RestartPolicy.ALWAYS, false, new dev.blivet.daemon.ledger.Verdict.Ended(78, FAIL, 2, true));
        JobSnapshot stopped = status("stopping", ALICE);
        assertEquals(JobState.STOPPED, stopped.state(), "a stop under way is not undone");
        assertEquals(3, stopped.exitCode(), "the keeper's exact status");

        restore("unsure", RestartPolicy.ALWAYS, true, new dev.blivet.daemon.ledger.Verdict.Unknown("cannot tell"));
        assertEquals(JobState.FAILED, status("unsure", ALICE).state());
        assertEquals(0, starter.launches.size(), "never started while it may still run");

        restore("plain", RestartPolicy.NO, false, new dev.blivet.daemon.ledger.Verdict.Down());
        assertEquals(JobState.STOPPED, status("plain", ALICE).state());
        restore("auto", RestartPolicy.NO, true, new dev.blivet.daemon.ledger.Verdict.Down());
        assertEquals(JobState.STARTING, status("auto", ALICE).state(), "autostart after a reboot");
        restore("waiting", RestartPolicy.ALWAYS, false, new dev.blivet.daemon.ledger.Verdict.Restart(5));
        assertEquals(JobState.STARTING, status("waiting", ALICE).state(), "its restart was due");
        assertEquals(2, starter.launches.size());
        assertTrue(ledger.calls.contains("starting waiting 6"), "the attempt number goes on: " + ledger.calls);

        restore("over", RestartPolicy.NO, true, new dev.blivet.daemon.ledger.Verdict.Over(new dev.blivet.daemon.ledger.RunRecord(
                "over", 4, dev.blivet.daemon.ledger.RunRecord.Phase.ENDED, null, null, null, "boot")));
        assertEquals(JobState.STOPPED, status("over", ALICE).state(), "it ended in this boot: autostart is not a restart");
        assertEquals(2, starter.launches.size());
    }

    @Test
    void aRunThatEndsWithNoRestartIsKeptAsEndedUntilACleanStop() {
        RecordingLedger ledger = withLedger();
        done(start("once", RestartPolicy.NO, ALICE, false));
        Launch launch = starter.last();
        ready(launch);
        launch.exit().complete(FAIL);
        loop.runPending();
        assertEquals(JobState.EXITED, status("once", ALICE).state());
        assertEquals("over once 1", ledger.calls.get(ledger.calls.size() - 1),
                "a JVM after a crash must not start it again for its autostart");
        done(supervisor.stopAll());
        assertEquals("ended once", ledger.calls.get(ledger.calls.size() - 1),
                "after a clean stop of blivetd, the next start is a fresh one");
    }

    @Test
    void aStopDuringTheRestartDelayLeavesNoRestartInTheLedger() {
        RecordingLedger ledger = withLedger();
        done(start("flaky", RestartPolicy.ALWAYS, ALICE, false));
        Launch launch = starter.last();
        ready(launch);
        launch.exit().complete(FAIL);
        loop.runPending();
        assertEquals(JobState.BACKOFF, status("flaky", ALICE).state());
        assertEquals("backoff flaky 1", ledger.calls.get(ledger.calls.size() - 1));
        done(supervisor.stopAll());
        assertEquals("ended flaky", ledger.calls.get(ledger.calls.size() - 1),
                "a clean stop of blivetd must not leave a restart for the next one");
    }
}
