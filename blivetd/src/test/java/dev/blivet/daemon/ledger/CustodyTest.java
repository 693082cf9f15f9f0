package dev.blivet.daemon.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * Custody across blivetd's deaths, with real JVMs killed by SIGKILL and real jobs: re-adoption
 * from the ledger (same pids, stop reaches the right process), jobs that end while no blivetd
 * runs, a pid that names another process, never twice, a reboot, and the injected crash points.
 *
 * <p>Without a keeper the jobs of a killed blivetd are reparented to init, not to this test: so
 * an exit while no blivetd runs is "unknown" here (exact only through the keeper's records); an
 * exit after re-adoption is exact where init reaps and the kernel keeps the status on the pidfd.
 */
class CustodyTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final AtomicInteger UNIQUE = new AtomicInteger();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private BlivetdProcess daemon;

    @AfterEach
    void cleanUp() {
        if (daemon != null) {
            daemon.close();
        }
    }

    /** A sleep no other process has: /proc finds exactly this job's processes by it. */
    private static List<String> marker() {
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

    private JsonNode ok(String op, String fields) throws IOException {
        try (Client client = daemon.client()) {
            return client.ok(op, fields);
        }
    }

    private JsonNode call(String op, String fields) throws IOException {
        try (Client client = daemon.client()) {
            return client.call(op, fields);
        }
    }

    /** A request during which blivetd halts at a crash point: the connection ends without an answer. */
    private void sendDying(String op, String fields) throws IOException {
        try (Client client = daemon.client()) {
            client.send("{\"id\":1,\"op\":\"" + op + "\"," + fields + "}\n");
            client.read();
        } catch (java.io.UncheckedIOException e) {
            // reset by the halt: as expected
        }
    }

    private JsonNode status(String name) throws IOException {
        return ok("status", "\"name\":\"" + name + "\"");
    }

    /** Waits until blivetd says job {@code name} is running. */
    private void awaitRunning(String name, String what) {
        Await.until(WAIT, () -> {
            try {
                return status(name).get("state").asText().equals("running");
            } catch (IOException e) {
                return false;
            }
        }, what);
    }

    private int startClientJob(String name, List<String> command, String extra) throws IOException {
        JsonNode started = ok("start", "\"spec\":{\"name\":\"" + name + "\",\"command\":" + argv(command) + extra + "}");
        assertEquals("running", started.get("state").asText(), started.toString());
        return started.get("pid").asInt();
    }

    private void restart() throws IOException {
        daemon.kill9();
        daemon = BlivetdProcess.start(tmp);
    }

    private Path runRecord(String name) {
        return tmp.resolve("run/ledger/" + name + ".json");
    }

    private static void assertOneProcess(List<String> argv, String what) {
        // Started by now or soon (a reload answers before its autostart jobs run), and never twice.
        Await.until(WAIT, () -> !Proc.findByCmdline(argv).isEmpty(), "a process " + argv);
        assertEquals(1, Proc.findByCmdline(argv).size(), what + ": exactly one process " + argv);
    }

    @Test
    void clientAndJobsDirJobsSurviveKill9WithTheirPids() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        List<String> fromClient = marker();
        List<String> fromDir = marker();
        Files.writeString(daemon.jobsDir().resolve("dirjob.json"), "{\"name\":\"dirjob\",\"autostart\":true,\"command\":"
                + argv(fromDir) + "}");
        ok("reload", null);
        Await.until(WAIT, () -> Proc.findByCmdline(fromDir).size() == 1, "the jobs-directory job to run");
        Path out = tmp.resolve("client.out");
        int clientPid = startClientJob("client", List.of("/bin/sh", "-c", "echo hello-from-job; exec " + String.join(" ",
                fromClient)), ",\"stdout\":\"" + out + "\"");
        Await.until(WAIT, () -> Proc.findByCmdline(fromClient).size() == 1, "the client job to exec its sleep");
        int dirPid = status("dirjob").get("pid").asInt();

        restart();

        JsonNode client = status("client");
        assertEquals("running", client.get("state").asText(), client.toString());
        assertEquals(clientPid, client.get("pid").asInt(), "the same process, re-adopted");
        assertEquals("client", client.get("source").asText());
        JsonNode dir = status("dirjob");
        assertEquals("running", dir.get("state").asText(), dir.toString());
        assertEquals(dirPid, dir.get("pid").asInt());
        assertOneProcess(fromDir, "the jobs-directory job is adopted, not started again");
        assertOneProcess(fromClient, "the client job");

        try (Client logs = daemon.client()) {
            JsonNode lines = logs.ok("logs", "\"name\":\"client\"");
            assertTrue(lines.toString().contains("hello-from-job"), lines.toString());
        }
        try (Client waiter = daemon.client()) {
            waiter.send("{\"id\":1,\"op\":\"wait\",\"name\":\"client\",\"state\":[\"stopped\"],\"timeout\":60}\n");
            JsonNode stopped = ok("stop", "\"name\":\"client\"");
            assertEquals("stopped", stopped.get("state").asText(), stopped.toString());
            JsonNode waited = waiter.read();
            assertEquals("stopped", waited.path("result").path("state").asText(), waited.toString());
        }
        Await.until(WAIT, () -> Proc.findByCmdline(fromClient).isEmpty(), "stop to end the adopted client job");
        assertOneProcess(fromDir, "stopping one job leaves the other");
        ok("stop", "\"name\":\"dirjob\"");
        Await.until(WAIT, () -> Proc.findByCmdline(fromDir).isEmpty(), "stop to end the adopted jobs-directory job");
    }

    @Test
    void anAdoptedJobsEndIsSeenAndItsRestartPolicyApplies() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        List<String> sleep = marker();
        int pid = startClientJob("policy", sleep, ",\"restart\":\"always\",\"restart_delay\":0.1");
        restart();
        assertEquals(pid, status("policy").get("pid").asInt());

        new ProcessBuilder("kill", "-TERM", Integer.toString(pid)).start().waitFor();
        Await.until(WAIT, () -> {
            try {
                JsonNode now = status("policy");
                return now.get("state").asText().equals("running") && now.get("pid").asInt() != pid;
            } catch (IOException e) {
                return false;
            }
        }, "the policy to restart the adopted job after it ended");
        JsonNode now = status("policy");
        assertEquals(1, now.get("restarts").asInt(), now.toString());
        assertOneProcess(sleep, "restarted once");
    }

    @Test
    void aJobThatEndsWhileBlivetdIsDownIsReportedNeverGuessed() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        List<String> sleep = marker();
        int pid = startClientJob("gone", sleep, "");
        daemon.kill9();
        new ProcessBuilder("kill", "-TERM", Integer.toString(pid)).start().waitFor();
        Await.until(WAIT, () -> Proc.findByCmdline(sleep).isEmpty(), "the job to end while no blivetd runs");
        daemon = BlivetdProcess.start(tmp);

        Await.until(WAIT, () -> {
            try {
                return !status("gone").get("state").asText().equals("running");
            } catch (IOException e) {
                return false;
            }
        }, "the ended job to be known as ended");
        JsonNode gone = status("gone");
        assertEquals("exited", gone.get("state").asText(), gone.toString());
        // No keeper: init is its parent. If init reaped it after the new blivetd opened its pidfd,
        // the kernel (6.15+) kept the status there and it is exact; if before, no one recorded
        // it and it must be called unknown. Never another status.
        assertTrue(gone.path("exit_code").isMissingNode(), gone.toString());
        if (gone.has("exit_signal")) {
            assertEquals(15, gone.get("exit_signal").asInt(), gone.toString());
        } else {
            assertTrue(gone.path("last_error").asText().contains("exit status unknown"), gone.toString());
        }
        assertTrue(Proc.findByCmdline(sleep).isEmpty(), "restart no: not started again");
    }

    /**
     * A process started in a later clock tick than {@code startTime} (field 22 of /proc/PID/stat
     * counts in ticks of 10 ms): a start within the same tick would be the same process as far as
     * the pid's identity can tell, which real pid reuse never is (the pid must wrap first).
     */
    private static Process laterThan(long startTime) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        for (;;) {
            Process process = new ProcessBuilder(marker()).start();
            String stat = Files.readString(java.nio.file.Path.of("/proc", Long.toString(process.pid()), "stat"));
            if (Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]) > startTime) {
                return process;
            }
            process.destroyForcibly().waitFor();
            assertTrue(System.nanoTime() < deadline, "no later clock tick within " + WAIT);
        }
    }

    @Test
    void aPidThatNamesAnotherProcessIsNeverSignalled() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        List<String> job = marker();
        int pid = startClientJob("victim", job, ",\"restart\":\"always\"");
        daemon.kill9();
        new ProcessBuilder("kill", "-KILL", Integer.toString(pid)).start().waitFor();
        Await.until(WAIT, () -> Proc.findByCmdline(job).isEmpty(), "the real job to end");
        // A process of ours now holds a pid the record names, with another start time: pid reuse.
        ObjectNode record = (ObjectNode) JSON.readTree(Files.readString(runRecord("victim")));
        Process stranger = laterThan(record.get("start_time").asLong());
        try {
            record.put("pid", stranger.pid());
            record.put("pgid", stranger.pid());
            Files.writeString(runRecord("victim"), JSON.writeValueAsString(record));
            daemon = BlivetdProcess.start(tmp);

            JsonNode victim = status("victim");
            assertNotEquals(stranger.pid(), victim.path("pid").asLong(), victim.toString());
            assertTrue(stranger.isAlive(), "the stranger was not signalled");
            call("stop", "\"name\":\"victim\"");
            call("remove", "\"name\":\"victim\"");
            assertTrue(stranger.isAlive(), "neither stop nor remove reaches the stranger");
            assertTrue(daemon.log().contains("pid " + stranger.pid() + " ended while blivetd was down"), daemon.log());
        } finally {
            stranger.destroyForcibly().waitFor();
        }
    }

    @Test
    void aJobNeverRunsTwiceAcrossTenKill9Cycles() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        List<String> fromClient = marker();
        List<String> fromDir = marker();
        Files.writeString(daemon.jobsDir().resolve("d.json"), "{\"name\":\"d\",\"autostart\":true,\"restart\":\"always\","
                + "\"command\":" + argv(fromDir) + "}");
        ok("reload", null);
        int clientPid = startClientJob("c", fromClient, ",\"restart\":\"always\",\"autostart\":true");
        // Running by blivetd's word, not only in /proc: its pid shows only once the helper reported it.
        awaitRunning("d", "the jobs-directory job to run");
        int dirPid = status("d").get("pid").asInt();
        for (int cycle = 0; cycle < 10; cycle++) {
            restart();
            assertOneProcess(fromClient, "cycle " + cycle);
            assertOneProcess(fromDir, "cycle " + cycle);
            assertEquals(clientPid, status("c").get("pid").asInt(), "cycle " + cycle);
            assertEquals(dirPid, status("d").get("pid").asInt(), "cycle " + cycle);
        }
    }

    @Test
    void afterARebootJobsAreListedStoppedAndAutostartOnesStart() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        List<String> plain = marker();
        List<String> auto = marker();
        int plainPid = startClientJob("plain", plain, "");
        int autoPid = startClientJob("auto", auto, ",\"autostart\":true");
        daemon.kill9();
        // A reboot: every process gone, and the run records name another boot.
        new ProcessBuilder("kill", "-KILL", Integer.toString(plainPid), Integer.toString(autoPid)).start().waitFor();
        Await.until(WAIT, () -> Proc.findByCmdline(plain).isEmpty() && Proc.findByCmdline(auto).isEmpty(), "the reboot");
        for (String name : List.of("plain", "auto")) {
            ObjectNode record = (ObjectNode) JSON.readTree(Files.readString(runRecord(name)));
            record.put("boot_id", "00000000-0000-0000-0000-000000000000");
            Files.writeString(runRecord(name), JSON.writeValueAsString(record));
        }
        daemon = BlivetdProcess.start(tmp);

        assertEquals("stopped", status("plain").get("state").asText());
        awaitRunning("auto", "the autostart job to run after the reboot");
        assertOneProcess(auto, "started once");
        assertTrue(Proc.findByCmdline(plain).isEmpty());
        ok("remove", "\"name\":\"plain\"");
        assertTrue(Files.notExists(tmp.resolve("state/specs/plain.json")), "remove deletes the records");
    }

    /**
     * A jobs-directory job's record is not fsync'd (its file is its durable source): after a
     * power cut it may be torn, empty or missing. None of these may block or hide the job: it
     * comes from the jobs directory, with a warning naming the record blivetd refused.
     */
    @Test
    void aJobsDirectoryJobsRecordTornByAPowerCutIsRebuiltFromItsFile() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        Map<String, List<String>> jobs = Map.of("torn", marker(), "empty", marker(), "missing", marker());
        for (Map.Entry<String, List<String>> job : jobs.entrySet()) {
            Files.writeString(daemon.jobsDir().resolve(job.getKey() + ".json"), "{\"name\":\"" + job.getKey()
                    + "\",\"autostart\":true,\"command\":" + argv(job.getValue()) + "}");
        }
        ok("reload", null);
        jobs.values().forEach(argv -> assertOneProcess(argv, "the jobs-directory job runs"));
        // Its pid is blivetd's to tell once the helper reported it, a moment after /proc shows it.
        jobs.keySet().forEach(name -> awaitRunning(name, "job " + name + " to run"));
        List<Integer> pids = List.of(status("torn").get("pid").asInt(), status("empty").get("pid").asInt(),
                status("missing").get("pid").asInt());
        daemon.kill9();
        // The power cut: every process gone, the runtime directory (a tmpfs) empty, and the
        // records that were never fsync'd torn, emptied or lost.
        for (int pid : pids) {
            new ProcessBuilder("kill", "-KILL", Integer.toString(pid)).start().waitFor();
        }
        Await.until(WAIT, () -> jobs.values().stream().allMatch(argv -> Proc.findByCmdline(argv).isEmpty()), "the power cut");
        for (String name : jobs.keySet()) {
            Files.delete(runRecord(name));
        }
        Path specs = tmp.resolve("state/specs");
        String whole = Files.readString(specs.resolve("torn.json"));
        Files.writeString(specs.resolve("torn.json"), whole.substring(0, whole.length() / 2));
        Files.writeString(specs.resolve("empty.json"), "");
        Files.delete(specs.resolve("missing.json"));
        daemon = BlivetdProcess.start(tmp);

        for (Map.Entry<String, List<String>> job : jobs.entrySet()) {
            Await.until(WAIT, () -> {
                try {
                    return status(job.getKey()).get("state").asText().equals("running");
                } catch (IOException e) {
                    return false;
                }
            }, "job " + job.getKey() + " to run again from the jobs directory");
            assertOneProcess(job.getValue(), job.getKey() + " started once");
            assertEquals("jobs-dir", status(job.getKey()).get("source").asText(), job.getKey());
        }
        for (String name : List.of("torn", "empty")) {
            assertTrue(daemon.log().contains(specs.resolve(name + ".json").toString()),
                    "a warning names the refused record " + name + ".json:\n" + daemon.log());
        }
        assertTrue(Files.readString(specs.resolve("torn.json")).contains("jobs-dir"),
                "the record is written again from the file");
    }

    /**
     * After a reboot (here a clean stop, which leaves no run record either), a jobs-directory job
     * starts from its file as it is now, never from the ledger's copy first: one edited while
     * blivetd was down runs its new command only, and one whose file is gone does not start.
     */
    @Test
    void afterARebootTheJobsDirectoryNotTheLedgerDecidesWhatStarts() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        List<String> old = marker();
        List<String> edited = marker();
        List<String> gone = marker();
        Path editedFile = daemon.jobsDir().resolve("edited.json");
        Path goneFile = daemon.jobsDir().resolve("gone.json");
        Files.writeString(editedFile, "{\"name\":\"edited\",\"autostart\":true,\"command\":" + argv(old) + "}");
        Files.writeString(goneFile, "{\"name\":\"gone\",\"autostart\":true,\"command\":" + argv(gone) + "}");
        ok("reload", null);
        assertOneProcess(old, "the job as first written runs");
        assertOneProcess(gone, "the other job runs");
        daemon.close();
        String before = daemon.log();
        Files.writeString(editedFile, "{\"name\":\"edited\",\"autostart\":true,\"command\":" + argv(edited) + "}");
        Files.delete(goneFile);
        daemon = BlivetdProcess.start(tmp);

        awaitRunning("edited", "the edited job to run");
        assertOneProcess(edited, "the edited file's command runs");
        assertTrue(Proc.findByCmdline(old).isEmpty(), "the ledger's old copy does not run");
        String log = daemon.log();
        String restarted = log.startsWith(before) ? log.substring(before.length()) : log; // one file, appended
        assertFalse(restarted.contains("job edited: starting " + old), "the old copy never started:\n" + restarted);
        assertFalse(restarted.contains("job gone: starting"), "a job whose file is gone never started:\n" + restarted);
        assertEquals("not_found", call("status", "\"name\":\"gone\"").path("error").path("code").asText());
    }

    @Test
    void aStoppedJobStaysStoppedAcrossAReboot() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        List<String> auto = marker();
        startClientJob("auto", auto, ",\"autostart\":true");
        ok("stop", "\"name\":\"auto\"");
        daemon.close(); // a clean stop, then a start: no run record, as after a reboot
        daemon = BlivetdProcess.start(tmp);
        assertEquals("stopped", status("auto").get("state").asText());
        assertTrue(Proc.findByCmdline(auto).isEmpty(), "its owner stopped it: autostart does not undo that");
    }

    /** The desired state lives in the marker NAME.down: a stop leaves it, a start removes it, a reboot reads it. */
    @Test
    void theDownMarkerOfAStopDecidesAutostartAfterAReboot() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        List<String> again = marker();
        List<String> held = marker();
        startClientJob("again", again, ",\"autostart\":true");
        startClientJob("held", held, ",\"autostart\":true");
        ok("stop", "\"name\":\"again\"");
        ok("stop", "\"name\":\"held\"");
        Path specs = tmp.resolve("state/specs");
        assertTrue(Files.exists(specs.resolve("again.down")) && Files.exists(specs.resolve("held.down")), "a stop marks it down");
        Object inode = Files.getAttribute(specs.resolve("again.json"), "unix:ino");
        int pid = ok("start", "\"name\":\"again\"").get("pid").asInt();
        assertTrue(Files.notExists(specs.resolve("again.down")), "a start unlinks the marker");
        assertEquals(inode, Files.getAttribute(specs.resolve("again.json"), "unix:ino"), "and leaves the record alone");
        daemon.kill9();
        // A reboot: the process gone, its run record of another boot.
        new ProcessBuilder("kill", "-KILL", Integer.toString(pid)).start().waitFor();
        Await.until(WAIT, () -> Proc.findByCmdline(again).isEmpty(), "the reboot");
        ObjectNode record = (ObjectNode) JSON.readTree(Files.readString(runRecord("again")));
        record.put("boot_id", "00000000-0000-0000-0000-000000000000");
        Files.writeString(runRecord("again"), JSON.writeValueAsString(record));
        daemon = BlivetdProcess.start(tmp);

        awaitRunning("again", "the job started again before the reboot to autostart");
        assertOneProcess(again, "started once");
        assertEquals("stopped", status("held").get("state").asText(), "its marker keeps it down");
        assertTrue(Proc.findByCmdline(held).isEmpty());
    }

    @Test
    void crashBetweenTheLedgerWriteAndTheSpawnNeverStartsItTwice() throws Exception {
        // Without cgroups nothing can tell whether the spawn happened: the job waits for its owner.
        daemon = BlivetdProcess.start(tmp, Map.of(CrashPoints.ENV, CrashPoints.AFTER_LEDGER_WRITE), "--cgroups=off");
        List<String> sleep = marker();
        sendDying("start", "\"spec\":{\"name\":\"half\",\"restart\":\"always\",\"command\":" + argv(sleep) + "}");
        assertEquals(137, daemon.awaitExit(WAIT));
        daemon = BlivetdProcess.start(tmp, "--cgroups=off");

        JsonNode half = status("half");
        if (!half.get("contained").asBoolean()) {
            // Process groups: nothing can tell whether the spawn happened.
            assertEquals("failed", half.get("state").asText(), half.toString());
            assertTrue(half.path("last_error").asText().contains("before it recorded the pid"), half.toString());
            assertTrue(Proc.findByCmdline(sleep).isEmpty(), "not started by the next blivetd: it cannot tell");
            JsonNode started = ok("start", "\"name\":\"half\"");
            assertEquals("running", started.get("state").asText(), "its owner may start it");
            assertOneProcess(sleep, "started once, by hand");
        } else {
            // Its own cgroup says nothing of it runs (Leftovers): started again, once.
            Await.until(WAIT, () -> Proc.findByCmdline(sleep).size() == 1, "the job started again");
            assertOneProcess(sleep, "started once by the next blivetd");
        }
    }

    @Test
    void crashBetweenTheLedgerWriteAndTheSpawnWithCgroupsStartsItOnceAgain() throws Exception {
        // The job's cgroup answers what process groups cannot: it is empty, so nothing of the
        // crashed start runs, and the next blivetd starts the job (its policy: always) once.
        daemon = BlivetdProcess.start(tmp, Map.of(CrashPoints.ENV, CrashPoints.AFTER_LEDGER_WRITE));
        List<String> sleep = marker();
        sendDying("start", "\"spec\":{\"name\":\"half\",\"restart\":\"always\",\"command\":" + argv(sleep) + "}");
        assertEquals(137, daemon.awaitExit(WAIT));
        daemon = BlivetdProcess.start(tmp);

        awaitRunning("half", "the job to run again");
        assertOneProcess(sleep, "started once, by the next blivetd");
    }

    /**
     * A start of a stopped job records its intent, releases the spawn, then unlinks the job's
     * marker: a crash in between leaves the marker beside a "starting" record, which the next
     * blivetd reads as the start it was (the marker goes), whether or not the spawn happened.
     */
    @Test
    void crashAfterAStartIsRecordedBeforeItsMarkerIsUnlinkedIsAStart() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        List<String> sleep = marker();
        startClientJob("back", sleep, ",\"restart\":\"no\"");
        ok("stop", "\"name\":\"back\"");
        Path down = tmp.resolve("state/specs/back.down");
        assertTrue(Files.exists(down), "a stop marks it down");
        daemon.close();
        daemon = BlivetdProcess.start(tmp, Map.of(CrashPoints.ENV, CrashPoints.AFTER_START_RECORDED));
        sendDying("start", "\"name\":\"back\"");
        assertEquals(137, daemon.awaitExit(WAIT));
        assertTrue(Files.exists(down), "the crash came before the unlink");
        daemon = BlivetdProcess.start(tmp);

        assertTrue(Files.notExists(down), "read as the start it was: not down any more");
        JsonNode back = status("back");
        if (back.get("state").asText().equals("failed")) {
            // The helper was spawned before the halt and forked the job: its cgroup says so.
            assertTrue(back.path("last_error").asText().contains("processes of the job still run"), back.toString());
            assertOneProcess(sleep, "the crashed start's process, left to its owner");
        } else {
            // Nothing was spawned: started again, once.
            awaitRunning("back", "the job started again");
            assertOneProcess(sleep, "started once, by the next blivetd");
        }
    }

    @Test
    void crashBetweenTheSpawnAndReadinessAdoptsTheJob() throws Exception {
        daemon = BlivetdProcess.start(tmp, Map.of(CrashPoints.ENV, CrashPoints.AFTER_SPAWN));
        List<String> sleep = marker();
        sendDying("start", "\"spec\":{\"name\":\"early\",\"restart\":\"always\",\"command\":" + argv(sleep) + "}");
        assertEquals(137, daemon.awaitExit(WAIT));
        daemon = BlivetdProcess.start(tmp);

        Await.until(WAIT, () -> Proc.findByCmdline(sleep).size() == 1, "the spawned job to run");
        JsonNode early = status("early");
        assertEquals("running", early.get("state").asText(), early.toString());
        assertEquals((int) Proc.findByCmdline(sleep).get(0), early.get("pid").asInt(), "adopted, not started again");
        assertOneProcess(sleep, "adopted");
    }

    @Test
    void crashDuringAStopIsFinishedByTheNextBlivetd() throws Exception {
        daemon = BlivetdProcess.start(tmp, Map.of(CrashPoints.ENV, CrashPoints.DURING_STOP));
        List<String> sleep = marker();
        int pid = startClientJob("stubborn", List.of("/bin/sh", "-c", "trap '' TERM; exec " + String.join(" ", sleep)),
                ",\"stop_timeout\":1,\"restart\":\"always\"");
        Await.until(WAIT, () -> Proc.findByCmdline(sleep).size() == 1, "the shell to exec sleep");
        sendDying("stop", "\"name\":\"stubborn\"");
        assertEquals(137, daemon.awaitExit(WAIT));
        assertTrue(new Proc(pid).exists(), "it ignores SIGTERM: still running when blivetd died");
        daemon = BlivetdProcess.start(tmp);

        Await.until(WAIT, () -> Proc.findByCmdline(sleep).isEmpty(), "the next blivetd to finish the stop (SIGKILL)");
        Await.until(WAIT, () -> {
            try {
                return status("stubborn").get("state").asText().equals("stopped");
            } catch (IOException e) {
                return false;
            }
        }, "the job to be stopped, not restarted");
        assertTrue(Proc.findByCmdline(sleep).isEmpty(), "not restarted");
    }
}
