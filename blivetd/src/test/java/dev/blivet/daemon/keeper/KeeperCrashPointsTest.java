package dev.blivet.daemon.keeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.ledger.CrashPoints;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.Proc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ledger's crash points (docs/architecture.md, "Custody: the ledger") with the real keeper:
 * the JVM halts at the point, the keeper starts the next JVM at once (no one restarts blivetd by
 * hand), and that JVM decides from the ledger and the keeper's records: never two instances, and
 * a stop that was cut is finished. The halt happens once ({@link CrashPoints#ONCE_ENV}): every
 * JVM the keeper starts inherits the crash point, and the next one must pass it.
 */
class KeeperCrashPointsTest {
    private static final Duration LONG = Duration.ofSeconds(90);
    private static final AtomicInteger UNIQUE = new AtomicInteger();

    @TempDir
    Path dir;
    private BlivetdProcess daemon;

    @AfterEach
    void cleanUp() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private void underKeeper(String point) throws IOException {
        daemon = BlivetdProcess.start(dir, List.of(System.getProperty("blivet.keeper"), "--"),
                Map.of(CrashPoints.ENV, point, CrashPoints.ONCE_ENV, dir.resolve("halted").toString()));
    }

    private static List<String> marker() {
        return List.of("/bin/sleep", Integer.toString(500_000 + UNIQUE.incrementAndGet() * 13
                + (int) (ProcessHandle.current().pid() % 997)));
    }

    private JsonNode ok(String op, String fields) throws IOException {
        try (Client client = daemon.client()) {
            return client.ok(op, fields);
        }
    }

    private JsonNode status(String name) {
        try {
            return ok("status", "\"name\":\"" + name + "\"");
        } catch (IOException | RuntimeException e) {
            return null; // the halted JVM closed it; the next one answers from the backlog
        }
    }

    /** A request the JVM halts in: its connection ends without an answer. */
    private void sendDying(String op, String fields) throws IOException {
        try (Client client = daemon.client()) {
            client.send("{\"id\":1,\"op\":\"" + op + "\"," + fields + "}\n");
            client.read();
        } catch (java.io.UncheckedIOException e) {
            // reset by the halt: as expected
        }
    }

    private void awaitHaltAndNextJvm() {
        Await.until(LONG, () -> Files.exists(dir.resolve("halted")), "the JVM to reach the crash point");
        Await.until(LONG, () -> daemon.log().contains("restarting it in 0 ms"), "the keeper to restart the JVM");
        assertTrue(daemon.process().isAlive(), "the keeper lives on");
    }

    private void awaitState(String name, String state) {
        Await.until(LONG, () -> {
            JsonNode now = status(name);
            return now != null && now.get("state").asText().equals(state);
        }, name + " to be " + state + " (last: " + status(name) + ")");
    }

    /** Never two instances: watched while the next JVM decides, then exactly {@code expected}. */
    private void assertInstances(List<String> argv, int expected, String what) {
        Await.until(LONG, () -> Proc.findByCmdline(argv).size() == expected, what + ": " + expected + " of " + argv);
    }

    @Test
    void betweenTheLedgerWriteAndTheSpawnTheNextJvmNeverStartsItTwice() throws Exception {
        underKeeper(CrashPoints.AFTER_LEDGER_WRITE);
        List<String> sleep = marker();
        sendDying("start", "\"spec\":{\"name\":\"half\",\"restart\":\"always\",\"command\":[\"" + sleep.get(0) + "\",\""
                + sleep.get(1) + "\"]}");
        awaitHaltAndNextJvm();
        Await.until(LONG, () -> status("half") != null, "the next JVM to answer");
        JsonNode half = status("half");
        // Without a writable cgroup v2 nothing can tell whether the spawn happened: failed, left to
        // its owner. With one, Leftovers knows nothing runs and starts it: once.
        if (half.get("state").asText().equals("failed")) {
            assertTrue(half.path("last_error").asText().contains("before it recorded the pid"), half.toString());
            assertTrue(Proc.findByCmdline(sleep).isEmpty(), "not started by the next JVM: it cannot tell");
            assertEquals("running", ok("start", "\"name\":\"half\"").get("state").asText(), "its owner may start it");
        }
        awaitState("half", "running");
        assertInstances(sleep, 1, "started once");
        assertEquals(status("half").get("pid").asInt(), (int) Proc.findByCmdline(sleep).get(0));
    }

    @Test
    void betweenTheSpawnAndReadinessTheNextJvmAdoptsTheKeepersChild() throws Exception {
        underKeeper(CrashPoints.AFTER_SPAWN);
        List<String> sleep = marker();
        sendDying("start", "\"spec\":{\"name\":\"early\",\"restart\":\"always\",\"command\":[\"" + sleep.get(0) + "\",\""
                + sleep.get(1) + "\"]}");
        awaitHaltAndNextJvm();
        awaitState("early", "running");
        assertInstances(sleep, 1, "adopted, not started again");
        int pid = Proc.findByCmdline(sleep).get(0);
        assertEquals(pid, status("early").get("pid").asInt(), "the spawned process is the job");
        assertEquals(daemon.pid(), new Proc(pid).ppid(), "orphaned by the halt: the keeper's child");
        assertEquals("stopped", ok("stop", "\"name\":\"early\"").get("state").asText(), "stop reaches the adopted job");
        assertInstances(sleep, 0, "stopped");
    }

    @Test
    void duringAStopTheNextJvmFinishesItAndTheKeeperRecordsTheExit() throws Exception {
        underKeeper(CrashPoints.DURING_STOP);
        List<String> sleep = marker();
        JsonNode started = ok("start", "\"spec\":{\"name\":\"stubborn\",\"restart\":\"always\",\"stop_timeout\":1,"
                + "\"command\":[\"/bin/sh\",\"-c\",\"trap '' TERM; exec " + String.join(" ", sleep) + "\"]}");
        int pid = started.get("pid").asInt();
        assertInstances(sleep, 1, "the shell to exec sleep");
        sendDying("stop", "\"name\":\"stubborn\"");
        awaitHaltAndNextJvm();
        awaitState("stubborn", "stopped");
        assertInstances(sleep, 0, "the next JVM finished the stop (SIGKILL after the stop timeout), not restarted it");
        // The keeper reaped it (its parent since the halt) and wrote its exact end: SIGKILL.
        Await.until(LONG, () -> daemon.log().contains("pid " + pid + " ended with killed by signal 9"),
                "the next JVM to learn the keeper's exact status of pid " + pid);
        assertTrue(Proc.findByCmdline(sleep).isEmpty(), "never restarted");
    }
}
