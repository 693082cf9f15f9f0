package dev.blivet.daemon.keeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.InstanceCgroup;
import dev.blivet.daemon.testing.NobodyClient;
import dev.blivet.daemon.testing.Proc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * blivet-keeper with a real blivetd JVM under it (docs/architecture.md, "Custody"): what the keeper
 * guarantees when the JVM dies, stops, re-execs, and when the keeper replaces itself. Re-adoption
 * is the ledger's: here jobs are only required to live on, be the keeper's, and have their exits
 * recorded exactly.
 */
class KeeperTest {
    private static final Duration LONG = Duration.ofSeconds(90);
    private static final int SIGTERM = 15;
    private static final int REEXECS = 3;

    /** Job processes the test started: the JVM that knew them may be gone, so the test ends them. */
    private final List<Integer> jobs = new ArrayList<>();

    /** Sockets of the blivetds the test started: their cgroup trees go with the test. */
    private final List<Path> sockets = new ArrayList<>();

    @AfterEach
    void endJobs() throws IOException {
        jobs.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        for (Path socket : sockets) {
            InstanceCgroup.killAllAndRemove(socket); // a test that killed its keeper left its jobs in it
        }
    }

    private BlivetdProcess underKeeper(Path dir, String... args) throws IOException {
        return underKeeper(dir, List.of(), args);
    }

    private BlivetdProcess underKeeper(Path dir, List<String> keeperOptions, String... args) throws IOException {
        List<String> prefix = new ArrayList<>(List.of(keeper()));
        prefix.addAll(keeperOptions);
        prefix.add("--");
        BlivetdProcess daemon = BlivetdProcess.start(dir, prefix, System.getProperty("java.class.path"), args);
        sockets.add(daemon.socket());
        return daemon;
    }

    private static String keeper() {
        return System.getProperty("blivet.keeper");
    }

    private int start(BlivetdProcess daemon, String name, String... command) throws IOException {
        StringBuilder argv = new StringBuilder();
        for (String word : command) {
            argv.append(argv.length() == 0 ? "" : ",").append('"').append(word.replace("\"", "\\\"")).append('"');
        }
        try (Client client = daemon.client()) {
            int pid = client.ok("start", "\"spec\":{\"name\":\"" + name + "\",\"command\":[" + argv + "]}").get("pid").asInt();
            jobs.add(pid);
            return pid;
        }
    }

    /** A ping answered within the deadline (a connect during a restart waits in the backlog). */
    private static JsonNode ping(BlivetdProcess daemon) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try (Client client = daemon.client()) {
                return client.ok("ping", null);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(LONG.toSeconds(), TimeUnit.SECONDS);
    }

    private static int jvm(BlivetdProcess daemon) throws Exception {
        return ping(daemon).get("pid").asInt();
    }

    /** Field 22 of /proc/PID/stat, as the keeper reads it. */
    private static long startTime(int pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
    }

    private static boolean gone(int pid) {
        return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true) || new Proc(pid).state().equals("Z");
    }

    private static void awaitGone(int pid, String what) {
        Await.until(LONG, () -> {
            try {
                return gone(pid);
            } catch (AssertionError | RuntimeException e) {
                return true; // /proc/PID vanished between the checks
            }
        }, what);
    }

    /**
     * The job's status once its process has ended. The keeper's exit record of an orphaned job is
     * consumed by the JVM that re-adopted it (docs/architecture.md, "Custody"), so what a client
     * sees is the proof that the record was exact: its wait status becomes the job's exit.
     */
    private static JsonNode ended(BlivetdProcess daemon, String name) {
        JsonNode[] last = new JsonNode[1];
        Await.until(LONG, () -> {
            try (Client client = daemon.client()) {
                last[0] = client.ok("status", "\"name\":\"" + name + "\"");
                return !last[0].has("pid") && last[0].has("exited_at");
            } catch (IOException | RuntimeException e) {
                return false; // a JVM on its way out closed the connection
            }
        }, "job " + name + " to be seen ended");
        return last[0];
    }

    private static void signal(int pid, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Integer.toString(pid)).inheritIO().start();
        assertEquals(0, kill.waitFor());
    }

    @Test
    void aKilledJvmIsRestartedWhileClientsWaitAndOrphanedJobsExitsAreRecordedExactly(@TempDir Path dir) throws Exception {
        try (BlivetdProcess daemon = underKeeper(dir)) {
            int keeper = daemon.pid();
            Path go = dir.resolve("go");
            int seven = start(daemon, "seven", "/bin/sh", "-c", "while [ ! -e " + go + " ]; do sleep 0.05; done; exit 7");
            int sleeper = start(daemon, "sleeper", "/bin/sleep", "1000");
            int jvm = jvm(daemon);
            assertEquals(keeper, new Proc(jvm).ppid(), "the keeper is the JVM's parent");
            assertEquals(jvm, new Proc(seven).ppid(), "while a JVM lives, it is its jobs' parent");

            ProcessHandle.of(jvm).orElseThrow().destroyForcibly();
            awaitGone(jvm, "the killed JVM to be gone");
            // The next JVM is starting: this connect waits in the backlog of the socket the keeper
            // holds, and is answered, rather than refused.
            int next = jvm(daemon);
            assertNotEquals(jvm, next);
            assertEquals(keeper, new Proc(next).ppid());
            assertTrue(daemon.process().isAlive());
            assertEquals(keeper, new Proc(seven).ppid(), "orphaned jobs are the keeper's");
            assertEquals(keeper, new Proc(sleeper).ppid());

            Files.createFile(go);
            signal(sleeper, "TERM");
            assertEquals(7, ended(daemon, "seven").path("exit_code").asInt(-1), "exit 7, as the keeper reaped it");
            assertEquals(SIGTERM, ended(daemon, "sleeper").path("exit_signal").asInt(-1), "killed by SIGTERM");
            assertTrue(gone(seven) && gone(sleeper), "reaped");
            assertTrue(daemon.log().contains("restarting it in 0 ms"), daemon.log());
        }
    }

    @Test
    void sigtermIsForwardedAndTheKeeperExitsWithTheJvmsStatus(@TempDir Path dir) throws Exception {
        BlivetdProcess daemon = underKeeper(dir);
        int jvm = jvm(daemon);
        int job = start(daemon, "job", "/bin/sleep", "1000");
        daemon.process().destroy(); // SIGTERM to the keeper, as systemd stops a service
        assertTrue(daemon.process().waitFor(LONG.toSeconds(), TimeUnit.SECONDS), daemon.log());
        assertEquals(0, daemon.process().exitValue(), daemon.log());
        awaitGone(jvm, "the JVM to exit");
        assertTrue(gone(job), "the JVM stopped its job");
        assertTrue(daemon.log().contains("stopping every job"), daemon.log());
        assertFalse(daemon.log().contains("restarting"), daemon.log());
    }

    @Test
    void aJvmThatCannotStartEndsTheKeeperWithItsStatusInsteadOfLooping(@TempDir Path dir) throws Exception {
        try (BlivetdProcess first = underKeeper(dir)) {
            // The socket is taken: the second blivetd cannot start, and neither does its keeper loop.
            Path log = dir.resolve("second.log");
            Process second = new ProcessBuilder(keeper(), "--",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "dev.blivet.daemon.Main",
                    "--socket", first.socket().toString(), "--jobs-dir", first.jobsDir().toString(),
                    "--state-dir", dir.resolve("state2").toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertTrue(second.waitFor(LONG.toSeconds(), TimeUnit.SECONDS));
            String output = Files.readString(log);
            assertEquals(69, second.exitValue(), output); // blivetd's EXIT_CANNOT_START
            assertEquals(1, output.split("started the JVM", -1).length - 1, output);
            assertTrue(output.contains("start-up failure"), output);
            assertEquals(jvm(first), jvm(first), "the first blivetd is untouched");
        }
    }

    /**
     * The keeper's side of a reexec, over a few in a row (the first makes the keeper the jobs'
     * parent, the later ones keep it so). Twenty in a row with 50 jobs is ReexecTest's: repeating
     * them here checked nothing more, for 30 s of the suite.
     */
    @Test
    void reexecsKeepEveryJobProcess(@TempDir Path dir) throws Exception {
        try (BlivetdProcess daemon = underKeeper(dir)) {
            int keeper = daemon.pid();
            List<Integer> mine = List.of(start(daemon, "a", "/bin/sleep", "1000"), start(daemon, "b", "/bin/sleep", "1000"),
                    start(daemon, "c", "/bin/sh", "-c", "exec sleep 1000"));
            List<Long> starts = new ArrayList<>();
            for (int pid : mine) {
                starts.add(startTime(pid));
            }
            int jvm = jvm(daemon);
            for (int i = 0; i < REEXECS; i++) {
                try (Client client = daemon.client()) {
                    assertEquals(jvm, client.ok("reexec", null).get("pid").asInt());
                }
                int old = jvm;
                Await.until(LONG, () -> {
                    try {
                        return jvm(daemon) != old;
                    } catch (Exception e) {
                        return false; // the old JVM closed a connection on its way out
                    }
                }, "a new JVM to answer after reexec " + (i + 1));
                jvm = jvm(daemon);
                assertEquals(keeper, new Proc(jvm).ppid());
                for (int j = 0; j < mine.size(); j++) {
                    int pid = mine.get(j);
                    assertFalse(gone(pid), "job pid " + pid + " after reexec " + (i + 1));
                    assertEquals(keeper, new Proc(pid).ppid(), "job pid " + pid + " is the keeper's");
                    assertEquals(starts.get(j), startTime(pid), "pid " + pid + " is the same process");
                }
            }
            assertEquals(REEXECS, daemon.log().split("exited for a re-exec", -1).length - 1, daemon.log());
            assertFalse(daemon.log().contains("restarting it in"), "no reexec looked like a crash");
            // The orphans' exits are the keeper's to record, after any number of JVMs.
            signal(mine.get(0), "KILL");
            assertEquals(9, ended(daemon, "a").path("exit_signal").asInt(-1), "SIGKILL, as the keeper reaped it");
        }
    }

    @Test
    void reexecIsRootsAndNeedsTheKeeper(@TempDir Path dir) throws Exception {
        try (BlivetdProcess daemon = underKeeper(dir)) {
            JsonNode reply = NobodyClient.send(dir, daemon.socket(), "{\"id\":1,\"op\":\"reexec\"}").get(0);
            assertEquals("permission_denied", reply.path("error").path("code").asText(), reply.toString());
        }
        Path plain = Files.createDirectories(dir.resolve("plain"));
        try (BlivetdProcess daemon = BlivetdProcess.start(plain); Client client = daemon.client()) {
            JsonNode reply = client.call("reexec");
            assertEquals("conflict", reply.path("error").path("code").asText(), reply.toString());
            assertTrue(reply.path("error").path("message").asText().contains("without its keeper"), reply.toString());
            assertEquals(daemon.pid(), client.ok("ping", null).get("pid").asInt(), "still the same JVM");
        }
    }

    /**
     * Also the restart backoff, across the replacement: 0 ms, then 100 ms doubling, held at the cap
     * the operator gave (150 ms here; the default cap would let the third delay be 200 ms).
     */
    @Test
    void theKeeperReplacesItselfKeepingItsPidItsJvmAndItsDuties(@TempDir Path dir) throws Exception {
        try (BlivetdProcess daemon = underKeeper(dir, List.of("--backoff-max=150"))) {
            int keeper = daemon.pid();
            killJvm(daemon);
            killJvm(daemon);
            int jvm = jvm(daemon);
            int job = start(daemon, "job", "/bin/sleep", "1000");
            signal(keeper, "USR2");
            Await.until(LONG, () -> daemon.log().contains("resumed, the JVM being pid " + jvm), "the keeper to resume");
            assertTrue(daemon.process().isAlive());
            assertEquals(jvm, jvm(daemon), "the same JVM answers");
            assertEquals(keeper, new Proc(jvm).ppid());
            assertEquals(List.of(keeper(), "--resume"), new Proc(keeper).cmdline().subList(0, 2).stream()
                    .map(word -> word.equals("blivet-keeper") ? keeper() : word).toList());
            // The resumed keeper still holds the socket, the link and the exits directory.
            ProcessHandle.of(jvm).orElseThrow().destroyForcibly();
            awaitGone(jvm, "the killed JVM to be gone");
            assertNotEquals(jvm, jvm(daemon));
            signal(job, "KILL");
            assertEquals(9, ended(daemon, "job").path("exit_signal").asInt(-1), "SIGKILL, as the resumed keeper reaped it");
            assertEquals(List.of(0, 100, 150), restartDelays(daemon.log()), "the backoff, its cap kept: " + daemon.log());
        }
    }

    @Test
    void aSocketFromSystemdIsHandedToEveryJvm(@TempDir Path dir) throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.setPosixFilePermissions(run, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path socket = run.resolve("blivetd.sock"); // where BlivetdProcess points --socket
        // Debian's stand-in for a socket unit: binds, then execs the keeper with LISTEN_FDS=1.
        try (BlivetdProcess daemon = BlivetdProcess.start(dir, List.of("systemd-socket-activate", "-l", socket.toString(),
                keeper(), "--"), System.getProperty("java.class.path"))) {
            Object inode = Files.getAttribute(socket, "unix:ino");
            int jvm = jvm(daemon);
            assertEquals(daemon.pid(), new Proc(jvm).ppid(), "systemd-socket-activate exec'd the keeper");
            ProcessHandle.of(jvm).orElseThrow().destroyForcibly();
            awaitGone(jvm, "the killed JVM to be gone");
            assertNotEquals(jvm, jvm(daemon));
            assertEquals(inode, Files.getAttribute(socket, "unix:ino"), "the same socket, never bound again");
            assertFalse(daemon.log().contains("ignored"), daemon.log());
        }
    }

    /** The delays the keeper announced, in order ("restarting it in N ms"). */
    private static List<Integer> restartDelays(String log) {
        List<Integer> delays = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("restarting it in (\\d+) ms").matcher(log);
        while (m.find()) {
            delays.add(Integer.parseInt(m.group(1)));
        }
        return delays;
    }

    private static void killJvm(BlivetdProcess daemon) throws Exception {
        int jvm = jvm(daemon);
        ProcessHandle.of(jvm).orElseThrow().destroyForcibly();
        awaitGone(jvm, "the killed JVM to be gone");
        assertNotEquals(jvm, jvm(daemon), "a new JVM answers");
    }

    @Test
    void aBadBackoffCapIsRefusedByNameAndNoJvmStarts() throws Exception {
        for (String bad : List.of("--backoff-max=10s", "--backoff-max=", "--backoff-max=3600001", "--backof-max=5")) {
            Process keeper = new ProcessBuilder(keeper(), bad, "--", "/bin/true").redirectErrorStream(true).start();
            String output = new String(keeper.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(keeper.waitFor(LONG.toSeconds(), TimeUnit.SECONDS));
            assertEquals(64, keeper.exitValue(), output); // EX_USAGE
            assertTrue(output.contains(bad + ":"), "names the culprit: " + output);
            assertFalse(output.contains("started the JVM"), output);
        }
    }

    @Test
    void aKilledKeeperTakesItsJvmButNotItsJobs(@TempDir Path dir) throws Exception {
        BlivetdProcess daemon = underKeeper(dir);
        int jvm = jvm(daemon);
        int job = start(daemon, "job", "/bin/sleep", "1000");
        daemon.process().destroyForcibly();
        assertTrue(daemon.process().waitFor(LONG.toSeconds(), TimeUnit.SECONDS));
        awaitGone(jvm, "the JVM to die with its keeper (PR_SET_PDEATHSIG)");
        assertFalse(gone(job), "the job lives on, for a new blivetd to re-adopt");
    }
}
