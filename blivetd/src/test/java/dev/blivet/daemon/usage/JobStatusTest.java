package dev.blivet.daemon.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.Proc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real blivetd: a forking job's daemon becomes the job (status, stop, exit code), status lists
 * every process of a job, and a cgroup limit blivetd cannot apply is refused by validate and start.
 */
class JobStatusTest {
    private static final Path PROGRAM = Path.of("src/test/programs/forking-daemon.py").toAbsolutePath();
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;
    BlivetdProcess daemon;
    Client client;

    @BeforeEach
    void startDaemon() throws IOException {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        daemon = BlivetdProcess.start(tmp);
        client = daemon.client();
    }

    @AfterEach
    void stopDaemon() throws IOException {
        client.close();
        daemon.close();
    }

    private static List<Integer> pids(JsonNode status) {
        List<Integer> pids = new ArrayList<>();
        status.path("processes").forEach(p -> pids.add(p.get("pid").asInt()));
        return pids;
    }

    private static List<String> commands(JsonNode status) {
        List<String> commands = new ArrayList<>();
        status.path("processes").forEach(p -> commands.add(p.get("command").asText()));
        return commands;
    }

    @Test
    void aForkingJobIsItsDaemonFromStartToStop() throws Exception {
        Path pidfile = tmp.resolve("forkd.pid");
        JsonNode started = client.ok("start", "\"spec\":{\"name\":\"forkd\",\"readiness\":\"forking\",\"pidfile\":\""
                + pidfile + "\",\"stop_timeout\":20,\"command\":[\"/usr/bin/python3\",\"" + PROGRAM + "\",\"" + pidfile
                + "\",\"daemon\",\"7\"]}");
        int pid = Integer.parseInt(Files.readString(pidfile).strip());
        assertEquals("running", started.get("state").asText(), started.toString());
        assertEquals(pid, started.get("pid").asInt(), "the job's pid is its daemon's: " + started);

        JsonNode status = client.ok("status", "\"name\":\"forkd\"");
        List<Integer> pids = pids(status);
        assertEquals(2, status.get("process_count").asInt(), "the daemon and its worker: " + status);
        assertEquals(pid, pids.get(0), "the main process first: " + status);
        int worker = pids.get(1);
        assertEquals(pid, new Proc(worker).ppid(), "the second is the daemon's worker: " + status);
        assertTrue(status.get("processes").get(0).get("command").asText().contains("forking-daemon.py"), status.toString());

        JsonNode stopped = client.ok("stop", "\"name\":\"forkd\"");
        assertEquals("stopped", stopped.get("state").asText(), stopped.toString());
        assertEquals(7, stopped.get("exit_code").asInt(), "the daemon's own exit code, exactly: " + stopped);
        assertFalse(stopped.has("processes"), "a stopped job has no processes: " + stopped);
        Await.until(WAIT, () -> !new Proc(worker).exists(), "the worker is stopped with the job");
        assertTrue(Files.exists(pidfile), "blivet never removes a forking job's pidfile");
    }

    @Test
    void aForkingJobsDaemonKilledBySignalIsReportedSo() throws Exception {
        Path pidfile = tmp.resolve("killed.pid");
        JsonNode started = client.ok("start", "\"spec\":{\"name\":\"killed\",\"readiness\":\"forking\",\"pidfile\":\""
                + pidfile + "\",\"command\":[\"/usr/bin/python3\",\"" + PROGRAM + "\",\"" + pidfile + "\",\"daemon\"]}");
        int pid = started.get("pid").asInt();
        int worker = pids(client.ok("status", "\"name\":\"killed\"")).get(1);
        try {
            new ProcessBuilder("kill", "-KILL", Integer.toString(pid)).start().waitFor();
            JsonNode exited = client.ok("wait", "\"name\":\"killed\",\"state\":[\"exited\",\"failed\"],\"timeout\":30");
            assertEquals(9, exited.get("exit_signal").asInt(), exited.toString());
        } finally {
            new ProcessBuilder("kill", "-KILL", Integer.toString(worker)).start().waitFor(); // a plain kill -9 leaves it
        }
    }

    @Test
    void aForkingJobWhosePidfileNamesInitIsRefused() {
        Path pidfile = tmp.resolve("init.pid");
        JsonNode refused = client.call("start", "\"spec\":{\"name\":\"liar\",\"readiness\":\"forking\",\"pidfile\":\""
                + pidfile + "\",\"command\":[\"/usr/bin/python3\",\"" + PROGRAM + "\",\"" + pidfile + "\",\"write\",\"1\"]}");
        assertFalse(refused.get("ok").asBoolean(), refused.toString());
        assertTrue(refused.toString().contains("pidfile " + pidfile + " names pid 1, which is init"), refused.toString());
    }

    @Test
    void statusListsEveryProcessOfAJob() {
        client.ok("start", "\"spec\":{\"name\":\"family\",\"command\":[\"/bin/sh\",\"-c\","
                + "\"/bin/sleep 1001 & /bin/sleep 1002 & exec /bin/sleep 1003\"]}");
        // Until the shell's children have exec'd, they still show the shell's command line.
        List<String> expected = List.of("/bin/sleep 1003", "/bin/sleep 1001", "/bin/sleep 1002");
        Await.until(WAIT, () -> commands(client.ok("status", "\"name\":\"family\"")).containsAll(expected),
                "three sleeps");
        JsonNode status = client.ok("status", "\"name\":\"family\"");
        assertEquals(3, status.get("process_count").asInt(), status.toString());
        List<String> commands = commands(status);
        assertEquals("/bin/sleep 1003", commands.get(0), "the main process first: " + status);
        assertTrue(commands.containsAll(List.of("/bin/sleep 1001", "/bin/sleep 1002")), status.toString());
        // The table's form counts only where a cgroup does: without one it stays cheap and says nothing.
        JsonNode all = client.ok("status", null);
        assertTrue(all.get("jobs").get(0).has("name"));
        assertFalse(all.get("jobs").get(0).has("processes"), "the table lists no processes: " + all);
        client.ok("stop", "\"name\":\"family\"");
    }

    @Test
    void aLimitBlivetdCannotApplyIsRefusedSayingWhy() {
        JsonNode validated = client.ok("validate", "\"spec\":{\"name\":\"big\",\"memory_max\":\"64M\",\"tasks_max\":16,"
                + "\"command\":[\"/bin/true\"]}");
        assertFalse(validated.get("valid").asBoolean(), validated.toString());
        String problems = validated.get("problems").toString();
        assertTrue(problems.contains("'memory_max': memory_max needs the cgroup v2 memory controller"), problems);
        assertTrue(problems.contains("'tasks_max': tasks_max needs the cgroup v2 pids controller"), problems);
        JsonNode start = client.call("start", "\"spec\":{\"name\":\"big\",\"memory_max\":\"64M\",\"command\":[\"/bin/true\"]}");
        assertEquals("invalid_spec", start.path("error").path("code").asText(), start.toString());
        assertTrue(start.toString().contains("memory_max needs the cgroup v2 memory controller"), start.toString());
    }
}
