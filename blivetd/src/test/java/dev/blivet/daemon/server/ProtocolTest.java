package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control protocol over a real socket against a real blivetd, with real jobs. One blivetd
 * serves every test (a start per test was half the class's time); each test begins with no job
 * and no file in the jobs directory, and leaves none (forgetJobs), so none depends on another.
 */
class ProtocolTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final AtomicInteger UNIQUE = new AtomicInteger();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static BlivetdProcess daemon;
    Client client;

    @BeforeAll
    static void startDaemon() throws IOException {
        daemon = BlivetdProcess.start(tmp);
    }

    @AfterAll
    static void stopDaemon() {
        daemon.close();
    }

    @BeforeEach
    void connect() throws IOException {
        client = daemon.client();
    }

    /** Every job the test left, stopped and removed, and the jobs directory emptied: the next test starts afresh. */
    @AfterEach
    void forgetJobs() throws IOException {
        try (var files = Files.list(daemon.jobsDir())) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.delete(file);
            }
        }
        try (Client cleaner = daemon.client()) {
            cleaner.ok("reload", null);
            for (JsonNode job : cleaner.ok("list", null).get("jobs")) {
                String name = "\"name\":\"" + job.get("name").asText() + "\"";
                cleaner.ok("stop", name);
                cleaner.ok("remove", name);
            }
            assertEquals(0, cleaner.ok("list", null).get("jobs").size(), "every job removed");
        } finally {
            client.close();
        }
    }

    /** A sleep no other process has, so /proc finds exactly this job. */
    private static List<String> uniqueSleep() {
        return List.of("/bin/sleep", Integer.toString(200_000 + UNIQUE.incrementAndGet() * 13 + (int) (ProcessHandle.current().pid() % 997)));
    }

    private static String argv(List<String> argv) {
        try {
            return JSON.writeValueAsString(argv);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertGone(List<String> argv) {
        Await.until(WAIT, () -> Proc.findByCmdline(argv).isEmpty(), "no process " + argv);
    }

    @Test
    void pingStartStatusStop() throws Exception {
        JsonNode ping = client.ok("ping", null);
        assertEquals(1, ping.get("protocol").asInt());
        assertTrue(ping.get("version").asText().matches("\\d+\\.\\d+\\.\\d+.*"), ping.toString());

        Path pidfile = tmp.resolve("web.pid");
        List<String> sleep = uniqueSleep();
        JsonNode started = client.ok("start", "\"spec\":{\"name\":\"web\",\"command\":" + argv(sleep)
                + ",\"pidfile\":\"" + pidfile + "\"}");
        assertEquals("running", started.get("state").asText());
        int pid = started.get("pid").asInt();
        assertEquals(sleep, new Proc(pid).cmdline());
        assertEquals(daemon.pid(), new Proc(pid).ppid(), "blivetd is the job's parent");
        assertEquals(pid + "\n", Files.readString(pidfile));

        JsonNode status = client.ok("status", "\"name\":\"web\"");
        assertEquals(pid, status.get("pid").asInt());
        assertEquals(0, status.get("owner").asInt());

        JsonNode stopped = client.ok("stop", "\"name\":\"web\"");
        assertEquals("stopped", stopped.get("state").asText());
        assertEquals(15, stopped.get("exit_signal").asInt());
        assertFalse(Files.exists(pidfile), "blivetd removes the pidfile after the job exits");
        assertGone(sleep);
    }

    /** status reads a published snapshot, not the jobs: it must never lag what a reply already said. */
    @Test
    void statusRightAfterEachReplyAgreesWithIt() throws Exception {
        for (int round = 0; round < 20; round++) {
            List<String> sleep = uniqueSleep();
            String name = "echo" + round;
            JsonNode started = client.ok("start", "\"spec\":{\"name\":\"" + name + "\",\"command\":" + argv(sleep) + "}");
            JsonNode status = client.ok("status", "\"name\":\"" + name + "\"");
            assertEquals("running", status.get("state").asText(), status.toString());
            assertEquals(started.get("pid").asInt(), status.get("pid").asInt());

            client.ok("stop", "\"name\":\"" + name + "\"");
            assertEquals("stopped", client.ok("status", "\"name\":\"" + name + "\"").get("state").asText());
            client.ok("remove", "\"name\":\"" + name + "\"");
            assertEquals("not_found", client.call("status", "\"name\":\"" + name + "\"").path("error").path("code").asText(),
                    "a removed job is gone at once");
        }
    }

    @Test
    void stopEscalatesToSigkillForAJobIgnoringSigterm() {
        List<String> sleep = uniqueSleep();
        client.ok("start", "\"spec\":{\"name\":\"stubborn\",\"stop_timeout\":0.5,\"command\":[\"/bin/sh\",\"-c\","
                + "\"trap '' TERM; exec " + String.join(" ", sleep) + "\"]}");
        Await.until(WAIT, () -> !Proc.findByCmdline(sleep).isEmpty(), "the shell to exec sleep");
        long before = System.nanoTime();
        JsonNode stopped = client.ok("stop", "\"name\":\"stubborn\"");
        assertEquals(9, stopped.get("exit_signal").asInt(), stopped.toString());
        assertTrue(System.nanoTime() - before >= 500_000_000L, "SIGKILL only after the stop timeout");
        assertGone(sleep);
    }

    @Test
    void stopWhileStartingCancelsTheStartAtOnce() {
        List<String> sleep = uniqueSleep();
        client.ok("start", "\"wait\":false,\"spec\":{\"name\":\"never\",\"readiness\":\"notify-fd\",\"ready_timeout\":60,"
                + "\"command\":" + argv(sleep) + "}");
        Await.until(WAIT, () -> !Proc.findByCmdline(sleep).isEmpty(), "the job to run, not yet ready");
        long before = System.nanoTime();
        JsonNode stopped = client.ok("stop", "\"name\":\"never\"");
        assertEquals("stopped", stopped.get("state").asText(), stopped.toString());
        assertTrue(System.nanoTime() - before < 30_000_000_000L, "far sooner than the 60 s ready_timeout");
        assertTrue(stopped.get("last_error").asText().startsWith("start cancelled"), stopped.toString());
        assertGone(sleep);
    }

    @Test
    void stopKillsTheJobsWholeProcessGroup() {
        List<String> child = uniqueSleep();
        List<String> main = uniqueSleep();
        client.ok("start", "\"spec\":{\"name\":\"family\",\"command\":[\"/bin/sh\",\"-c\",\""
                + String.join(" ", child) + " & exec " + String.join(" ", main) + "\"]}");
        Await.until(WAIT, () -> !Proc.findByCmdline(child).isEmpty() && !Proc.findByCmdline(main).isEmpty(),
                "both processes");
        client.ok("stop", "\"name\":\"family\"");
        assertGone(main);
        assertGone(child);
    }

    @Test
    void pidfileIsRemovedWhenTheJobExitsByItself() throws Exception {
        Path pidfile = tmp.resolve("brief.pid");
        client.ok("start", "\"spec\":{\"name\":\"brief\",\"pidfile\":\"" + pidfile + "\",\"command\":"
                + "[\"/bin/sh\",\"-c\",\"exit 4\"]}");
        JsonNode exited = client.ok("wait", "\"name\":\"brief\",\"state\":[\"exited\",\"failed\"],\"timeout\":20");
        assertEquals("exited", exited.get("state").asText());
        assertEquals(4, exited.get("exit_code").asInt());
        assertFalse(Files.exists(pidfile));
    }

    @Test
    void restartsWithBackoffThenFailsAtTheLimit() throws Exception {
        try (Client events = daemon.client()) {
            assertTrue(events.ok("events", null).get("subscribed").asBoolean());
            client.ok("start", "\"wait\":false,\"spec\":{\"name\":\"crashy\",\"restart\":\"on-failure\",\"restart_delay\":0.05,"
                    + "\"restart_delay_max\":0.2,\"restart_limit\":3,\"command\":[\"/bin/sh\",\"-c\",\"exit 1\"]}");
            List<String> states = new ArrayList<>();
            while (!states.contains("failed")) {
                JsonNode event = events.read();
                assertEquals("state", event.get("event").asText());
                states.add(event.get("job").get("state").asText());
            }
            assertEquals(3, states.stream().filter("backoff"::equals).count(), states.toString());
            assertEquals("starting", states.get(0));
        }
        JsonNode failed = client.ok("status", "\"name\":\"crashy\"");
        assertEquals("failed", failed.get("state").asText());
        assertEquals(3, failed.get("restarts").asInt());
        assertTrue(failed.get("last_error").asText().startsWith("restart limit reached: 3 restarts"), failed.toString());

        // A manual start resets the budget.
        client.call("start", "\"name\":\"crashy\",\"wait\":false");
        JsonNode again = client.ok("wait", "\"name\":\"crashy\",\"state\":\"backoff\",\"timeout\":20");
        assertTrue(again.get("restarts").asInt() <= 1, again.toString());
        client.ok("stop", "\"name\":\"crashy\"");
    }

    @Test
    void aFailedStartSaysWhyWithItsExitCode() {
        Path lock = tmp.resolve("held.lock");
        List<String> sleep = uniqueSleep();
        client.ok("start", "\"spec\":{\"name\":\"first\",\"lockfile\":\"" + lock + "\",\"command\":" + argv(sleep) + "}");
        JsonNode second = client.call("start", "\"spec\":{\"name\":\"second\",\"lockfile\":\"" + lock
                + "\",\"command\":" + argv(uniqueSleep()) + "}");
        assertFalse(second.get("ok").asBoolean());
        assertEquals("start_failed", second.get("error").get("code").asText());
        assertEquals(69, second.get("error").get("exit_code").asInt());
        assertTrue(second.get("error").get("message").asText().startsWith("lock conflict: " + lock + " is held by pid "),
                second.toString());
        assertEquals("failed", client.ok("status", "\"name\":\"second\"").get("state").asText());
        client.ok("stop", "\"name\":\"first\"");
    }

    @Test
    void sdNotifyStatusKeepsFlowingAfterReady() {
        // 2000 datagrams overflow a socket queue nobody reads (net.unix.max_dgram_qlen): the job
        // would block before "done" unless blivetd keeps reading after readiness.
        String script = "import os, socket, time\\n"
                + "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\\n"
                + "s.connect(os.environ['NOTIFY_SOCKET'])\\n"
                + "s.send(b'READY=1\\\\nSTATUS=warming up')\\n"
                + "for i in range(2000): s.send(b'STATUS=step %d' % i)\\n"
                + "s.send(b'STATUS=done')\\n"
                + "time.sleep(600)";
        client.ok("start", "\"spec\":{\"name\":\"chatty\",\"readiness\":\"sd-notify\",\"command\":"
                + "[\"/usr/bin/python3\",\"-c\",\"" + script + "\"]}");
        Await.until(WAIT, () -> "done".equals(client.ok("status", "\"name\":\"chatty\"").path("status").asText()),
                "STATUS=done");
        client.ok("stop", "\"name\":\"chatty\"");
    }

    @Test
    void aNotifyFdJobMayWriteToItsFdAgainAfterReady() {
        // Once ready, blivetd keeps the pipe's read end open (and drains it): a closed one would
        // kill the job with SIGPIPE at its next write.
        client.ok("start", "\"spec\":{\"name\":\"chatter\",\"readiness\":\"notify-fd\",\"command\":[\"/bin/sh\",\"-c\","
                + "\"echo ready >&3; for i in $(seq 1 20000); do echo again >&3; done; exec " + String.join(" ", uniqueSleep())
                + "\"]}");
        Await.until(WAIT, () -> {
            JsonNode status = client.ok("status", "\"name\":\"chatter\"");
            assertEquals("running", status.get("state").asText(), "still alive: " + status);
            return Proc.findByCmdline(List.of("/bin/sh", "-c")).isEmpty()
                    && new Proc(status.get("pid").asInt()).cmdline().get(0).equals("/bin/sleep");
        }, "the job to write 20000 lines and exec sleep");
        client.ok("stop", "\"name\":\"chatter\"");
    }

    @Test
    void waitTimesOutWithItsOwnCode() {
        client.ok("start", "\"spec\":{\"name\":\"long\",\"command\":" + argv(uniqueSleep()) + "}");
        JsonNode response = client.call("wait", "\"name\":\"long\",\"state\":\"exited\",\"timeout\":0.2");
        assertEquals("timeout", response.get("error").get("code").asText());
        client.ok("stop", "\"name\":\"long\"");
    }

    @Test
    void logsShowsTheLastLines() throws Exception {
        Path out = tmp.resolve("talker.out");
        client.ok("start", "\"spec\":{\"name\":\"talker\",\"stdout\":\"" + out + "\",\"command\":[\"/bin/sh\",\"-c\","
                + "\"for i in 1 2 3 4 5; do echo line $i; done\"]}");
        client.ok("wait", "\"name\":\"talker\",\"state\":\"exited\",\"timeout\":20");
        JsonNode logs = client.ok("logs", "\"name\":\"talker\",\"lines\":2");
        assertEquals("[\"line 4\",\"line 5\"]", logs.get("lines").toString());
    }

    @Test
    void reloadReportsAddedChangedAndRemoved() throws Exception {
        List<String> sleep = uniqueSleep();
        Path spec = daemon.jobsDir().resolve("svc.json");
        Files.writeString(spec, "{\"name\":\"svc\",\"autostart\":true,\"command\":" + argv(sleep) + "}");
        Files.writeString(daemon.jobsDir().resolve("bad.json"), "{\"name\":\"bad\",\"command\":[\"/no/such/program\"]}");
        JsonNode report = client.ok("reload", null);
        assertEquals("[\"svc\"]", report.get("added").toString(), report.toString());
        assertTrue(report.get("errors").get(daemon.jobsDir().resolve("bad.json").toString()).asText()
                .contains("/no/such/program"), report.toString());
        assertEquals("running", client.ok("wait", "\"name\":\"svc\",\"state\":\"running\",\"timeout\":20")
                .get("state").asText());

        Files.writeString(spec, "{\"name\":\"svc\",\"autostart\":true,\"stop_timeout\":3,\"command\":" + argv(sleep) + "}");
        assertEquals("[\"svc\"]", client.ok("reload", null).get("changed").toString());

        Files.delete(spec);
        assertEquals("[\"svc\"]", client.ok("reload", null).get("removed").toString());
        assertGone(sleep);
        Await.until(WAIT, () -> "not_found".equals(client.call("status", "\"name\":\"svc\"").path("error").path("code")
                .asText()), "svc to be removed");
    }

    @Test
    void sighupReloadsTheJobsDirectory() throws Exception {
        List<String> sleep = uniqueSleep();
        Files.writeString(daemon.jobsDir().resolve("hup.json"), "{\"name\":\"hup\",\"autostart\":true,\"command\":"
                + argv(sleep) + "}");
        dev.blivet.daemon.launch.NativeOs os = new dev.blivet.daemon.launch.NativeOs();
        assertEquals(0, os.posix().kill(daemon.pid(), 1), "SIGHUP to blivetd");
        Await.until(WAIT, () -> "running".equals(client.call("status", "\"name\":\"hup\"").path("result").path("state")
                .asText()), "the job from the reloaded directory to run");
        client.ok("stop", "\"name\":\"hup\"");
    }

    @Test
    void logsFollowStreamsNewLines() throws Exception {
        Path out = tmp.resolve("follow.out");
        client.ok("start", "\"spec\":{\"name\":\"follow\",\"stdout\":\"" + out + "\",\"command\":[\"/bin/sh\",\"-c\","
                + "\"echo first; sleep 0.3; echo second; exec " + String.join(" ", uniqueSleep()) + "\"]}");
        try (Client follower = daemon.client()) {
            JsonNode first = follower.ok("logs", "\"name\":\"follow\",\"lines\":10,\"follow\":true");
            List<String> seen = new ArrayList<>();
            first.get("lines").forEach(line -> seen.add(line.asText()));
            while (!seen.contains("second")) {
                JsonNode event = follower.read();
                assertEquals("log", event.get("event").asText());
                seen.add(event.get("line").asText());
            }
            assertEquals(List.of("first", "second"), seen);
        }
        client.ok("stop", "\"name\":\"follow\"");
    }

    @Test
    void anotherUserCanNeitherTouchRootsJobsNorRunAsRoot() throws Exception {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "CI runs as root: the test drops a client to nobody");
        List<String> sleep = uniqueSleep();
        client.ok("start", "\"spec\":{\"name\":\"rootjob\",\"command\":" + argv(sleep) + "}");

        List<JsonNode> replies = asNobody(
                "{\"id\":1,\"op\":\"stop\",\"name\":\"rootjob\"}",
                "{\"id\":2,\"op\":\"start\",\"spec\":{\"name\":\"escalate\",\"user\":\"root\",\"command\":[\"/bin/true\"]}}",
                "{\"id\":3,\"op\":\"status\"}",
                "{\"id\":4,\"op\":\"start\",\"spec\":{\"name\":\"mine\",\"command\":" + argv(uniqueSleep()) + "}}",
                "{\"id\":5,\"op\":\"reload\"}");
        // root's job does not exist to nobody: not_found, no owner named
        assertEquals("not_found", replies.get(0).get("error").get("code").asText(), replies.get(0).toString());
        assertEquals("no job named rootjob", replies.get(0).get("error").get("message").asText());
        assertEquals("permission_denied", replies.get(1).get("error").get("code").asText(), replies.get(1).toString());
        assertEquals("[]", replies.get(2).get("result").get("jobs").toString(), "nobody sees none of root's jobs");
        JsonNode mine = replies.get(3).get("result");
        assertEquals(65534, mine.get("owner").asInt(), replies.get(3).toString());
        assertTrue(new Proc(mine.get("pid").asInt()).status("Uid").startsWith("65534\t"), "nobody's job runs as nobody");
        assertEquals("permission_denied", replies.get(4).get("error").get("code").asText());

        // A job of nobody's whose output "file" is /etc/shadow, or a symlink to it (refused up
        // front), or its own log swapped for such a symlink later: logs never reads it as root.
        Path link = tmp.resolve("shadow-link");
        Files.createSymbolicLink(link, Path.of("/etc/shadow"));
        Path nobodysDir = Files.createDirectories(tmp.resolve("nobodys"));
        Files.setAttribute(nobodysDir, "unix:uid", 65534);
        Path swapped = nobodysDir.resolve("out.log");
        List<JsonNode> leaks = asNobody(
                "{\"id\":1,\"op\":\"start\",\"spec\":{\"name\":\"leak\",\"stdout\":\"/etc/shadow\",\"command\":"
                        + argv(uniqueSleep()) + "}}",
                "{\"id\":2,\"op\":\"logs\",\"name\":\"leak\"}",
                "{\"id\":3,\"op\":\"start\",\"spec\":{\"name\":\"leak2\",\"stdout\":\"" + link + "\",\"command\":"
                        + argv(uniqueSleep()) + "}}",
                "{\"id\":4,\"op\":\"start\",\"spec\":{\"name\":\"leak3\",\"stdout\":\"" + swapped + "\",\"command\":"
                        + "[\"/bin/sh\",\"-c\",\"echo mine; exec " + String.join(" ", uniqueSleep()) + "\"]}}");
        assertEquals("start_failed", leaks.get(0).get("error").get("code").asText(), leaks.get(0).toString());
        // to nobody, a path that is not the file its job opened looks like a log with nothing in it yet
        assertEquals("[]", leaks.get(1).get("result").get("lines").toString(), leaks.get(1).toString());
        // validation makes no probe for nobody: the helper, as nobody, refuses the symlink at the start
        assertEquals("start_failed", leaks.get(2).get("error").get("code").asText(), leaks.get(2).toString());
        assertTrue(leaks.get(3).get("ok").asBoolean(), leaks.get(3).toString());
        Files.delete(swapped);
        Files.createSymbolicLink(swapped, Path.of("/etc/shadow"));
        JsonNode swappedLogs = asNobody("{\"id\":5,\"op\":\"logs\",\"name\":\"leak3\"}").get(0);
        assertEquals("[]", swappedLogs.get("result").get("lines").toString(), swappedLogs.toString());

        assertEquals("running", client.ok("status", "\"name\":\"rootjob\"").get("state").asText(), "root's job still runs");
        assertEquals(5, client.ok("list", null).get("jobs").size(), "root sees every job: " + client.ok("list", null));
        client.ok("stop", "\"all\":true");
    }

    /** A protocol client as nobody: its reply lines, one per request. */
    private List<JsonNode> asNobody(String... requests) throws Exception {
        return NobodyClient.send(tmp, daemon.socket(), requests);
    }

    @Test
    void hostileInputNeverHurtsTheDaemonOrOtherClients() throws Exception {
        int baselineFds = new Proc(daemon.pid()).fds().size();
        int baselineThreads = Integer.parseInt(new Proc(daemon.pid()).status("Threads"));

        assertEquals("bad_request", client.raw("{not json").get("error").get("code").asText());
        assertEquals("bad_request", client.raw("[1,2,3]").get("error").get("code").asText());
        assertEquals("bad_request", client.raw("{\"id\":7}").get("error").get("code").asText());
        JsonNode unknown = client.raw("{\"id\":8,\"op\":\"format-disk\"}");
        assertEquals(8, unknown.get("id").asInt());
        assertEquals("unknown_op", unknown.get("error").get("code").asText());
        JsonNode wrongType = client.call("stop", "\"name\":5");
        assertEquals("bad_request", wrongType.get("error").get("code").asText());
        assertTrue(wrongType.get("error").get("message").asText().contains("'name'"));
        JsonNode badSpec = client.call("start", "\"spec\":{\"name\":\"x\",\"command\":\"/bin/true\"}");
        assertEquals("invalid_spec", badSpec.get("error").get("code").asText());
        assertTrue(badSpec.get("error").get("message").asText().contains("'command'"), badSpec.toString());
        assertEquals("bad_request", client.call("wait", "\"name\":\"x\",\"state\":\"sleeping\"").get("error").get("code").asText());

        // A line past the limit: refused, and that connection (only) is closed.
        try (Client flooder = daemon.client()) {
            try {
                flooder.send("{\"op\":\"ping\",\"pad\":\"" + "x".repeat(2 * 1024 * 1024));
            } catch (java.io.UncheckedIOException e) {
                // blivetd stopped reading at the limit and closed: the rest of the send fails
            }
            JsonNode refused = flooder.read();
            assertEquals("line_too_long", refused.get("error").get("code").asText());
            assertNull(flooder.read(), "closed after the refusal");
        }
        // Clients that connect and say nothing, and one cut off mid-request.
        List<Client> idle = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            idle.add(daemon.client());
        }
        try (Client cut = daemon.client()) {
            cut.send("{\"id\":1,\"op\":\"pi");
        }
        // Hundreds at once.
        ExecutorService pool = Executors.newFixedThreadPool(32);
        List<Future<Boolean>> pings = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            pings.add(pool.submit(() -> {
                try (Client c = daemon.client()) {
                    return c.ok("ping", null).get("protocol").asInt() == 1;
                }
            }));
        }
        for (Future<Boolean> ping : pings) {
            assertTrue(ping.get(60, TimeUnit.SECONDS));
        }
        pool.shutdown();
        for (Client c : idle) {
            c.close();
        }

        assertEquals(1, client.ok("ping", null).get("protocol").asInt(), "the first client is still served");
        assertTrue(daemon.process().isAlive());
        Await.until(WAIT, () -> new Proc(daemon.pid()).fds().size() <= baselineFds + 2,
                "blivetd's fds back to about " + baselineFds + " (now " + new Proc(daemon.pid()).fds().size() + ")");
        // Client threads are retired a few seconds after their connection ends.
        Await.until(WAIT, () -> Integer.parseInt(new Proc(daemon.pid()).status("Threads")) <= baselineThreads + 2,
                "blivetd's threads back to about " + baselineThreads);
    }
}
