package dev.blivet.daemon.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.NobodyClient;
import dev.blivet.daemon.testing.Proc;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, attack 5: one user's never-ready starts must not delay anyone else's start or any
 * restart, and per-user limits bound what one user may hold. Real blivetd, a client as nobody.
 */
class LaunchFairnessTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final AtomicInteger UNIQUE = new AtomicInteger();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int NOBODY = 65534;

    @TempDir
    Path tmp;

    @BeforeEach
    void needsRoot() {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "CI runs as root: the test drops a client to nobody");
    }

    private static List<String> uniqueSleep() {
        return List.of("/bin/sleep", Integer.toString(300_000 + UNIQUE.incrementAndGet() * 17
                + (int) (ProcessHandle.current().pid() % 991)));
    }

    private static String argv(List<String> argv) {
        try {
            return JSON.writeValueAsString(argv);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String neverReady(int id, String name, List<String> sleep) {
        return "{\"id\":" + id + ",\"op\":\"start\",\"wait\":false,\"spec\":{\"name\":\"" + name + "\",\"readiness\":\"notify-fd\","
                + "\"ready_timeout\":86400,\"command\":" + argv(sleep) + "}}";
    }

    private static String errorCode(JsonNode reply) {
        return reply.path("error").path("code").asText();
    }

    private static int fds(BlivetdProcess daemon) {
        return new Proc(daemon.pid()).fds().size();
    }

    private static int threads(BlivetdProcess daemon) {
        return Integer.parseInt(new Proc(daemon.pid()).status("Threads"));
    }

    @Test
    void sixtyFourNeverReadyStartsOfOneUserDelayNeitherRootsStartNorARestart() throws Exception {
        // Limits above 64, so that what is proven is that waiting costs no thread, not the limit.
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp, "--max-starts-per-user", "100", "--max-jobs-per-user", "100");
                Client root = daemon.client()) {
            // Warm up the start path once, then take the baseline.
            root.ok("start", "\"spec\":{\"name\":\"warm\",\"command\":" + argv(uniqueSleep()) + "}");
            root.ok("stop", "\"name\":\"warm\"");
            root.ok("remove", "\"name\":\"warm\"");
            int baselineFds = fds(daemon);
            int baselineThreads = threads(daemon);

            List<List<String>> sleeps = new ArrayList<>();
            List<String> requests = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                List<String> sleep = uniqueSleep();
                sleeps.add(sleep);
                requests.add(neverReady(i + 1, "never" + i, sleep));
            }
            for (JsonNode reply : NobodyClient.send(tmp, daemon.socket(), requests)) {
                assertEquals("starting", reply.path("result").path("state").asText(), reply.toString());
            }
            for (List<String> sleep : sleeps) {
                Await.until(WAIT, () -> !Proc.findByCmdline(sleep).isEmpty(), "nobody's never-ready job " + sleep + " to run");
            }

            long before = System.nanoTime();
            JsonNode started = root.ok("start", "\"spec\":{\"name\":\"rootjob\",\"command\":" + argv(uniqueSleep()) + "}");
            double startSeconds = (System.nanoTime() - before) / 1e9;
            assertEquals("running", started.get("state").asText());
            System.out.printf("fairness: root's start with 64 never-ready starts pending answered in %.3f s%n", startSeconds);
            assertTrue(startSeconds < 5, "root's start took " + startSeconds + " s");

            before = System.nanoTime();
            JsonNode restarted = root.ok("restart", "\"name\":\"rootjob\"");
            double restartSeconds = (System.nanoTime() - before) / 1e9;
            assertEquals("running", restarted.get("state").asText());
            assertNotEquals(started.get("pid").asInt(), restarted.get("pid").asInt());
            System.out.printf("fairness: restart op of a root job answered in %.3f s%n", restartSeconds);
            assertTrue(restartSeconds < 5, "the restart took " + restartSeconds + " s");

            // A restart by policy: the job is killed behind blivetd's back.
            JsonNode phoenix = root.ok("start", "\"spec\":{\"name\":\"phoenix\",\"restart\":\"always\",\"restart_delay\":0.1,"
                    + "\"command\":" + argv(uniqueSleep()) + "}");
            int firstPid = phoenix.get("pid").asInt();
            before = System.nanoTime();
            ProcessHandle.of(firstPid).orElseThrow().destroyForcibly();
            Await.until(WAIT, () -> {
                JsonNode status = root.ok("status", "\"name\":\"phoenix\"");
                return status.get("state").asText().equals("running") && status.get("pid").asInt() != firstPid;
            }, "phoenix to be restarted by its policy");
            double policySeconds = (System.nanoTime() - before) / 1e9;
            System.out.printf("fairness: restart by policy (delay 0.1 s) running again after %.3f s%n", policySeconds);
            assertTrue(policySeconds < 5, "the policy restart took " + policySeconds + " s");

            // Everything the attack made goes away again.
            JsonNode stopped = root.ok("stop", "\"all\":true");
            assertTrue(stopped.toString().contains("never63"), stopped.toString());
            for (List<String> sleep : sleeps) {
                Await.until(WAIT, () -> Proc.findByCmdline(sleep).isEmpty(), "no process " + sleep);
            }
            Await.until(WAIT, () -> fds(daemon) <= baselineFds, "blivetd's fds back to " + baselineFds + " (now "
                    + fds(daemon) + ")");
            Await.until(WAIT, () -> threads(daemon) <= baselineThreads + 1, "blivetd's threads back to about "
                    + baselineThreads + " (now " + threads(daemon) + ")");
            System.out.printf("fairness: blivetd back to %d fds (baseline %d), %d threads (baseline %d)%n", fds(daemon),
                    baselineFds, threads(daemon), baselineThreads);
            assertEquals(1, root.ok("ping", null).get("protocol").asInt());
        }
    }

    @Test
    void perUserLimitsRefuseTheNextJobAndStartButNotRoot() throws Exception {
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp, "--max-jobs-per-user", "3", "--max-starts-per-user", "2");
                Client root = daemon.client()) {
            List<JsonNode> replies = NobodyClient.send(tmp, daemon.socket(),
                    neverReady(1, "pending0", uniqueSleep()),
                    neverReady(2, "pending1", uniqueSleep()),
                    neverReady(3, "pending2", uniqueSleep()),
                    "{\"id\":4,\"op\":\"start\",\"spec\":{\"name\":\"quick\",\"command\":" + argv(uniqueSleep()) + "}}",
                    "{\"id\":5,\"op\":\"stop\",\"name\":\"pending0\"}",
                    "{\"id\":6,\"op\":\"start\",\"spec\":{\"name\":\"quick\",\"command\":" + argv(uniqueSleep()) + "}}",
                    "{\"id\":7,\"op\":\"start\",\"spec\":{\"name\":\"fourth\",\"command\":" + argv(uniqueSleep()) + "}}",
                    "{\"id\":8,\"op\":\"status\",\"name\":\"pending2\"}");
            assertEquals("starting", replies.get(0).path("result").path("state").asText(), replies.get(0).toString());
            assertEquals("starting", replies.get(1).path("result").path("state").asText(), replies.get(1).toString());
            for (JsonNode refused : List.of(replies.get(2), replies.get(3))) {
                assertEquals("limit_exceeded", errorCode(refused), refused.toString());
                String message = refused.path("error").path("message").asText();
                assertTrue(message.contains("uid " + NOBODY) && message.contains("(2, blivetd --max-starts-per-user)"), message);
            }
            assertEquals("stopped", replies.get(4).path("result").path("state").asText(), replies.get(4).toString());
            assertEquals("running", replies.get(5).path("result").path("state").asText(), replies.get(5).toString());
            assertEquals("limit_exceeded", errorCode(replies.get(6)), replies.get(6).toString());
            String message = replies.get(6).path("error").path("message").asText();
            assertTrue(message.contains("uid " + NOBODY + " has 3 jobs") && message.contains("(3, blivetd --max-jobs-per-user)"),
                    message);
            assertEquals("not_found", errorCode(replies.get(7)), "a refused start leaves no job behind: " + replies.get(7));

            // Root is not limited: more pending starts and more jobs than any user may have.
            for (int i = 0; i < 5; i++) {
                root.ok("start", "\"wait\":false,\"spec\":{\"name\":\"rootpending" + i + "\",\"readiness\":\"notify-fd\","
                        + "\"ready_timeout\":86400,\"command\":" + argv(uniqueSleep()) + "}");
                root.ok("start", "\"spec\":{\"name\":\"rootjob" + i + "\",\"command\":" + argv(uniqueSleep()) + "}");
            }
            root.ok("stop", "\"all\":true");
        }
    }

    /**
     * A restart by policy of a user at its pending-start limit is not refused: it waits its turn
     * and starts as soon as one of that user's own starts ends.
     */
    @Test
    void aRestartPastTheLimitWaitsItsTurnInsteadOfFailing() throws Exception {
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp, "--max-starts-per-user", "1");
                Client root = daemon.client()) {
            List<JsonNode> replies = NobodyClient.send(tmp, daemon.socket(),
                    "{\"id\":1,\"op\":\"start\",\"spec\":{\"name\":\"phoenix\",\"restart\":\"always\",\"restart_delay\":0.1,"
                            + "\"command\":" + argv(uniqueSleep()) + "}}",
                    neverReady(2, "hog", uniqueSleep()));
            int firstPid = replies.get(0).path("result").path("pid").asInt();
            assertEquals("starting", replies.get(1).path("result").path("state").asText(), replies.get(1).toString());

            ProcessHandle.of(firstPid).orElseThrow().destroyForcibly();
            Await.until(WAIT, () -> daemon.log().contains("job phoenix: uid " + NOBODY + " has 1 starts pending"),
                    "phoenix's restart to wait its turn");
            assertEquals("starting", root.ok("status", "\"name\":\"phoenix\"").get("state").asText());

            root.ok("stop", "\"name\":\"hog\"");
            Await.until(WAIT, () -> root.ok("status", "\"name\":\"phoenix\"").get("state").asText().equals("running"),
                    "phoenix to start once the hog's start ended");
            assertNotEquals(firstPid, root.ok("status", "\"name\":\"phoenix\"").get("pid").asInt());
            root.ok("stop", "\"all\":true");
        }
    }
}
