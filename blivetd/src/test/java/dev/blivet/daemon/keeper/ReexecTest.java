package dev.blivet.daemon.keeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.Proc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11's upgrade in place: 20 {@code reexec} in a row under the real keeper with 50 jobs (25
 * from the jobs directory, 25 from clients). Every job keeps its pid and its process (start time in
 * /proc), none is restarted (blivetd's restarts counter and started_at), and stop and status work
 * after.
 *
 * <p>Parents: before the first reexec a job's parent is the JVM that started it (the nearest
 * subreaper). When that JVM exits for the reexec, the kernel reparents its jobs to the keeper, the
 * next subreaper up: so from the first reexec on, and for every later one, the parent is the
 * keeper, and stays the keeper (docs/architecture.md, "Custody: the keeper").
 */
class ReexecTest {
    private static final Duration LONG = Duration.ofSeconds(90);
    private static final int JOBS = 50;
    private static final int REEXECS = 20;

    @TempDir
    Path dir;
    private BlivetdProcess daemon;

    @AfterEach
    void cleanUp() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private JsonNode ok(String op, String fields) throws IOException {
        try (Client client = daemon.client()) {
            return client.ok(op, fields);
        }
    }

    private int jvm() throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return ok("ping", null).get("pid").asInt();
            } catch (IOException | RuntimeException e) {
                return -1; // the old JVM closed this connection on its way out
            }
        }).get(LONG.toSeconds(), TimeUnit.SECONDS);
    }

    private static long startTime(int pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
    }

    private static String spec(String name, boolean autostart) {
        return "{\"name\":\"" + name + "\",\"command\":[\"/bin/sleep\",\"" + (400_000 + name.hashCode() % 1000 + 1000) + "\"]"
                + (autostart ? ",\"autostart\":true" : "") + "}";
    }

    @Test
    void twentyReexecsWithFiftyJobsKeepEveryPidParentAndStart() throws Exception {
        Path jobsDir = Files.createDirectories(dir.resolve("jobs"));
        for (int i = 0; i < JOBS / 2; i++) {
            Files.writeString(jobsDir.resolve("dir" + i + ".json"), spec("dir" + i, true));
        }
        daemon = BlivetdProcess.start(dir, List.of(System.getProperty("blivet.keeper"), "--"),
                System.getProperty("java.class.path"));
        int keeper = daemon.pid();
        for (int i = 0; i < JOBS / 2; i++) {
            ok("start", "\"spec\":" + spec("cli" + i, false));
        }
        Map<String, JsonNode> before = new HashMap<>();
        Map<String, Long> starts = new HashMap<>();
        Await.until(LONG, () -> {
            try {
                JsonNode list = ok("list", null);
                int running = 0;
                for (JsonNode job : list.get("jobs")) {
                    running += job.get("state").asText().equals("running") ? 1 : 0;
                }
                return running == JOBS;
            } catch (IOException e) {
                return false;
            }
        }, "50 jobs running");
        for (JsonNode job : ok("list", null).get("jobs")) {
            before.put(job.get("name").asText(), job);
            starts.put(job.get("name").asText(), startTime(job.get("pid").asInt()));
        }
        int jvm = jvm();
        for (JsonNode job : before.values()) {
            assertEquals(jvm, new Proc(job.get("pid").asInt()).ppid(), "before any reexec, the JVM is the parent: " + job);
        }

        for (int round = 1; round <= REEXECS; round++) {
            assertEquals(jvm, ok("reexec", null).get("pid").asInt(), "the answering JVM replies before it goes");
            int old = jvm;
            Await.until(LONG, () -> {
                try {
                    int now = jvm();
                    return now != old && now != -1;
                } catch (Exception e) {
                    return false;
                }
            }, "a new JVM after reexec " + round);
            jvm = jvm();
            assertEquals(keeper, new Proc(jvm).ppid(), "the keeper starts the next JVM");
            for (JsonNode job : ok("list", null).get("jobs")) {
                String name = job.get("name").asText();
                JsonNode was = before.get(name);
                String what = name + " after reexec " + round + ": " + job;
                assertEquals("running", job.get("state").asText(), what);
                int pid = job.get("pid").asInt();
                assertEquals(was.get("pid").asInt(), pid, "same pid: " + what);
                assertEquals(starts.get(name), startTime(pid), "same process (start time): " + what);
                assertEquals(keeper, new Proc(pid).ppid(), "after a reexec the keeper is the parent: " + what);
                assertEquals(0, job.path("restarts").asInt(), "never restarted: " + what);
                assertEquals(was.path("started_at").asText(), job.path("started_at").asText(), "same start: " + what);
            }
            assertEquals(JOBS, ok("list", null).get("jobs").size(), "every job known after reexec " + round);
        }
        assertEquals(REEXECS, daemon.log().split("exited for a re-exec", -1).length - 1, daemon.log());
        assertFalse(daemon.log().contains("restarting it in"), "no reexec looked like a crash");

        // status and stop still work on the jobs the twentieth JVM adopted.
        for (String name : before.keySet()) {
            int pid = before.get(name).get("pid").asInt();
            JsonNode status = ok("status", "\"name\":\"" + name + "\"");
            assertEquals(pid, status.get("pid").asInt(), status.toString());
            JsonNode stopped = ok("stop", "\"name\":\"" + name + "\"");
            assertNotEquals("running", stopped.get("state").asText(), stopped.toString());
            Await.until(LONG, () -> !new Proc(pid).exists(), name + "'s process to end after stop");
        }
        assertTrue(daemon.process().isAlive());
    }
}
