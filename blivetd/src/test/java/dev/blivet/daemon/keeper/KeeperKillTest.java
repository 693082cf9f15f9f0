package dev.blivet.daemon.keeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.Proc;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the keeper, as docs/operations.md's table says: the JVM dies with it
 * (PR_SET_PDEATHSIG); the jobs keep running, reparented away from any blivetd; a new blivetd (its
 * own keeper and JVM) re-adopts them by pid and start time; a job's exit after that is exact only
 * where the kernel keeps it on the pidfd (Linux 6.15+), else "unknown", never another status.
 */
class KeeperKillTest {
    private static final Duration LONG = Duration.ofSeconds(90);

    @TempDir
    Path dir;
    private BlivetdProcess daemon;
    private final List<Integer> jobs = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        if (daemon != null) {
            daemon.close();
        }
        jobs.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    private BlivetdProcess underKeeper() throws IOException {
        return BlivetdProcess.start(dir, List.of(System.getProperty("blivet.keeper"), "--"),
                System.getProperty("java.class.path"));
    }

    private JsonNode ok(String op, String fields) throws IOException {
        try (Client client = daemon.client()) {
            return client.ok(op, fields);
        }
    }

    @Test
    void theJvmDiesWithItsKeeperJobsLiveOnAndTheNextBlivetdAdoptsThem() throws Exception {
        daemon = underKeeper();
        int keeper = daemon.pid();
        int jvm = ok("ping", null).get("pid").asInt();
        int a = ok("start", "\"spec\":{\"name\":\"a\",\"command\":[\"/bin/sleep\",\"601001\"]}").get("pid").asInt();
        int b = ok("start", "\"spec\":{\"name\":\"b\",\"command\":[\"/bin/sleep\",\"601002\"]}").get("pid").asInt();
        jobs.addAll(List.of(a, b));

        daemon.kill9();
        assertEquals(137, daemon.process().exitValue(), "the keeper died of SIGKILL");
        Await.until(LONG, () -> !new Proc(jvm).exists(), "the JVM to die with its keeper (PDEATHSIG)");
        for (int pid : List.of(a, b)) {
            // The JVM's leader shows Z while its other threads still exit; its children move on then.
            Await.until(LONG, () -> new Proc(pid).ppid() != jvm, "job " + pid + " to be reparented from the dead JVM");
            assertTrue(new Proc(pid).exists(), "job " + pid + " keeps running");
            assertNotEquals(keeper, new Proc(pid).ppid(), "reparented away from the dead keeper");
        }

        daemon = underKeeper(); // as systemd's Restart= would: a new keeper and JVM on the same directories
        int next = ok("ping", null).get("pid").asInt();
        assertNotEquals(jvm, next);
        for (String name : List.of("a", "b")) {
            JsonNode job = ok("status", "\"name\":\"" + name + "\"");
            assertEquals("running", job.get("state").asText(), job.toString());
            assertEquals(name.equals("a") ? a : b, job.get("pid").asInt(), "re-adopted by pid: " + job);
        }
        assertNotEquals(daemon.pid(), new Proc(a).ppid(), "the new keeper is not their parent: it cannot be");

        // The end of a job whose parent is not blivetd: seen; its status exact only through the
        // pidfd (6.15+, once its parent reaped it), else unknown. Never another status.
        new ProcessBuilder("kill", "-TERM", Integer.toString(a)).inheritIO().start().waitFor();
        Await.until(LONG, () -> {
            try {
                return !ok("status", "\"name\":\"a\"").get("state").asText().equals("running");
            } catch (IOException e) {
                return false;
            }
        }, "a's end to be seen");
        JsonNode ended = ok("status", "\"name\":\"a\"");
        assertTrue(ended.path("exit_code").isMissingNode(), ended.toString());
        if (ended.has("exit_signal")) {
            assertEquals(15, ended.get("exit_signal").asInt(), ended.toString());
        } else {
            assertTrue(ended.path("last_error").asText().contains("exit status unknown"), ended.toString());
        }
        // Stop still reaches the other adopted job, through its pidfd.
        ok("stop", "\"name\":\"b\"");
        Await.until(LONG, () -> !new Proc(b).exists(), "stop to end b");
    }
}
