package dev.blivet.daemon.keeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.InstanceCgroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11's chaos test: the real keeper (the built binary) and real JVMs, 50 jobs (25 from the
 * jobs directory, 25 from clients, some with pidfile and lockfile), and {@value #CYCLES} kill -9s of
 * the JVM (never the keeper) at random moments, some in the middle of starts and stops the test
 * drives. Some jobs end by themselves with a chosen exit code or signal, some while no JVM runs:
 * each writes its intended status to a file first (the truth), then exits with it or kills itself
 * with it. After every cycle, once the new JVM answers: every job known, exactly one process per
 * running job and none for the others (counted by a unique argv word over /proc), the same pid for
 * every job that stayed up, no zombie among the keeper's or the JVM's children, and every exit
 * status blivetd shows equal to the truth.
 *
 * <p>The seed is printed; {@code -Dblivet.chaos.seed=N} replays a run, {@code -Dblivet.chaos.cycles=N}
 * makes it longer (bench/custody/soak.sh runs 100).
 */
class CustodyChaosTest {
    private static final int CYCLES = Integer.getInteger("blivet.chaos.cycles", 20);
    private static final int JOBS = 50;
    private static final Duration LONG = Duration.ofSeconds(90);
    /**
     * The keeper's cap on its restart backoff. Every kill here is of a JVM that lived seconds, so
     * under the default cap (10 s) most of a cycle waited out the backoff. A short cap changes none
     * of the checks, which wait for the next JVM to answer whenever it starts: the restarts still
     * come after 0 ms, then 100 ms doubling (held here at 250 ms), and a job told to end right
     * after a kill still ends while the keeper holds it (a new JVM takes far longer to start than
     * the job takes to exit, even after the first kill's 0 ms).
     */
    private static final String BACKOFF_MAX = "--backoff-max=250";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Where a job's own end is chosen, and how it dies with it. */
    private static final String ENDER = "read how < \"$1\"; echo \"$how\" > \"$2.tmp\"; mv \"$2.tmp\" \"$2\"; "
            + "case $how in code*) exit ${how#code } ;; signal*) kill -${how#signal } $$ ;; esac; exit 99";
    /** A job that runs until it is stopped; the shell (holding the marker) waits on its sleep. */
    private static final String FOREVER = "sleep 100000; exit 98";
    private static final String[] ENDINGS = {"code 0", "code 3", "code 42", "signal 9", "signal 15", "signal 10"};

    @TempDir
    Path dir;
    private BlivetdProcess daemon;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    /**
     * Whatever the test left, passed or failed: a failed check leaves the jobs (and, mid-cycle, no
     * JVM to stop them) running. A clean stop first; then every process of blivetd's cgroup tree
     * (jobs, their children, keeper, JVM) and the tree itself; without cgroups, every process with
     * a job's marker and its descendants (a FOREVER job's sleep has no marker).
     */
    @AfterEach
    void cleanUp() throws Exception {
        pool.shutdownNow();
        try {
            if (daemon != null) {
                daemon.close(); // SIGTERM to the keeper: the JVM stops every job
            }
        } finally {
            InstanceCgroup.killAllAndRemove(dir.resolve("run/blivetd.sock")); // where BlivetdProcess puts it
            List<ProcessHandle> left = new ArrayList<>();
            for (JobUnderTest job : jobs.values()) {
                for (int pid : markerPids(job.marker)) {
                    ProcessHandle.of(pid).ifPresent(p -> {
                        left.add(p);
                        p.descendants().forEach(left::add);
                    });
                }
            }
            left.forEach(ProcessHandle::destroyForcibly);
        }
    }

    /** What the test knows of a job, and so what blivetd must say about it. */
    private static final class JobUnderTest {
        final String name;
        final String marker;
        final boolean fromDir;
        final boolean ender;
        final Path fifo;
        final Path truth;
        final Path pidfile;
        /** The pid it must keep while it stays up; 0 when it is not running. */
        int pid;
        /** Triggered to end: from then on it must end with exactly the truth. */
        boolean ending;
        /** Its exit status was compared once (counted once). */
        boolean verified;
        /** Stopped by the test (a stop that was answered): it must stay down. */
        boolean stopped;
        /** A start or stop was in flight when the JVM died: either outcome, decided again after the cycle. */
        boolean inFlight;

        JobUnderTest(String name, String marker, boolean fromDir, boolean ender, Path fifo, Path truth, Path pidfile) {
            this.name = name;
            this.marker = marker;
            this.fromDir = fromDir;
            this.ender = ender;
            this.fifo = fifo;
            this.truth = truth;
            this.pidfile = pidfile;
        }
    }

    private final Map<String, JobUnderTest> jobs = new HashMap<>();
    /** Starts cut by a kill whose process ran on unsupervised (then stopped by the test, as its owner would). */
    private int leftovers;

    private static String keeper() {
        return System.getProperty("blivet.keeper");
    }

    private JsonNode ok(String op, String fields) throws IOException {
        try (Client client = daemon.client()) {
            return client.ok(op, fields);
        }
    }

    private JsonNode status(String name) throws IOException {
        return ok("status", "\"name\":\"" + name + "\"");
    }

    /** The JVM that answers, waiting in the backlog of the keeper's socket while one restarts. */
    private int jvm() throws Exception {
        Future<Integer> ping = pool.submit(() -> ok("ping", null).get("pid").asInt());
        return ping.get(LONG.toSeconds(), TimeUnit.SECONDS);
    }

    /** Processes whose argv holds this word, over all of /proc (zombies have no argv: not counted). */
    private static List<Integer> markerPids(String marker) throws IOException {
        return markerPids(List.of(marker)).get(marker);
    }

    /** For each marker, the processes whose argv holds it: one pass over /proc for all of them. */
    private static Map<String, List<Integer>> markerPids(java.util.Collection<String> markers) throws IOException {
        Map<String, List<Integer>> found = new HashMap<>();
        markers.forEach(marker -> found.put(marker, new ArrayList<>()));
        try (var entries = Files.list(Path.of("/proc"))) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                String pid = entry.getFileName().toString();
                if (!pid.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(entry.resolve("cmdline")),
                            java.nio.charset.StandardCharsets.ISO_8859_1);
                    for (String marker : markers) {
                        if (cmdline.contains(marker)) {
                            found.get(marker).add(Integer.parseInt(pid));
                        }
                    }
                } catch (IOException gone) {
                    // exited while listed
                }
            }
        }
        return found;
    }

    /** Zombies whose parent is the keeper or the JVM: an exit no one reaped. */
    private static List<String> zombiesOf(Set<Integer> parents) throws IOException {
        List<String> zombies = new ArrayList<>();
        try (var entries = Files.list(Path.of("/proc"))) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                if (!entry.getFileName().toString().chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String stat = Files.readString(entry.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (f[0].equals("Z") && parents.contains(Integer.parseInt(f[1]))) {
                        zombies.add(stat.substring(0, stat.lastIndexOf(')') + 1) + " parent " + f[1]);
                    }
                } catch (IOException gone) {
                    // reaped while listed
                }
            }
        }
        return zombies;
    }

    private String spec(JobUnderTest job) throws IOException {
        Map<String, Object> spec = new java.util.LinkedHashMap<>();
        spec.put("name", job.name);
        spec.put("command", job.ender
                ? List.of("/bin/sh", "-c", ENDER, job.marker, job.fifo.toString(), job.truth.toString())
                : List.of("/bin/sh", "-c", FOREVER, job.marker));
        spec.put("restart", "no");
        if (job.fromDir) {
            spec.put("autostart", true);
        }
        if (job.pidfile != null) {
            spec.put("pidfile", job.pidfile.toString());
            spec.put("lockfile", dir.resolve("locks/" + job.name + ".lock").toString());
        }
        return JSON.writeValueAsString(spec);
    }

    @Test
    void fiftyJobsSurviveThirtyKill9sOfTheJvmUnderTheKeeper() throws Exception {
        long seed = Long.getLong("blivet.chaos.seed", System.nanoTime());
        System.out.println("CustodyChaosTest seed " + seed + " (-Dblivet.chaos.seed=" + seed + " replays it), "
                + CYCLES + " cycles");
        Random random = new Random(seed);
        Files.createDirectories(dir.resolve("fifo"));
        Files.createDirectories(dir.resolve("truth"));
        Files.createDirectories(dir.resolve("pids"));
        Files.createDirectories(dir.resolve("locks"));
        Path jobsDir = Files.createDirectories(dir.resolve("jobs"));
        List<String> mkfifo = new ArrayList<>(List.of("mkfifo"));
        String run = Long.toString(ProcessHandle.current().pid()) + "x" + Long.toHexString(seed & 0xffffff);
        for (int i = 0; i < JOBS; i++) {
            boolean fromDir = i % 2 == 0;
            String name = (fromDir ? "dir" : "cli") + i;
            boolean ender = i % 4 < 2 && i < 40; // 20 jobs end by themselves, 30 stay up or are stopped
            Path pidfile = i % 5 == 0 ? dir.resolve("pids/" + name + ".pid") : null;
            JobUnderTest job = new JobUnderTest(name, "chaos-" + run + "-" + name + "-", fromDir, ender,
                    dir.resolve("fifo/" + name), dir.resolve("truth/" + name), pidfile);
            jobs.put(name, job);
            mkfifo.add(job.fifo.toString());
            if (fromDir) {
                Files.writeString(jobsDir.resolve(name + ".json"), spec(job));
            }
        }
        assertEquals(0, new ProcessBuilder(mkfifo).inheritIO().start().waitFor());

        daemon = BlivetdProcess.start(dir, List.of(keeper(), BACKOFF_MAX, "--"), System.getProperty("java.class.path"));
        int keeper = daemon.pid();
        for (JobUnderTest job : jobs.values()) {
            if (!job.fromDir) {
                JsonNode started = ok("start", "\"spec\":" + spec(job));
                assertEquals("running", started.get("state").asText(), started.toString());
            }
        }
        for (JobUnderTest job : jobs.values()) {
            awaitSettled(job, "the first start");
            job.pid = status(job.name).get("pid").asInt();
        }

        List<String> toggles = jobs.values().stream().filter(j -> !j.ender && !j.fromDir).map(j -> j.name).sorted().toList();
        List<String> enders = new ArrayList<>(jobs.values().stream().filter(j -> j.ender).map(j -> j.name).sorted().toList());
        java.util.Collections.shuffle(enders, random);
        int exact = 0;
        int endedWhileDown = 0;
        for (int cycle = 1; cycle <= CYCLES; cycle++) {
            String when = "cycle " + cycle + " (seed " + seed + ")";
            int jvm = jvm();
            // A start or a stop in flight while the JVM dies.
            JobUnderTest toggled = jobs.get(toggles.get(random.nextInt(toggles.size())));
            boolean stopping = toggled.pid != 0;
            toggled.inFlight = true;
            Future<?> request = pool.submit(() -> {
                try (Client client = daemon.client()) {
                    client.call(stopping ? "stop" : "start", "\"name\":\"" + toggled.name + "\"");
                } catch (IOException | RuntimeException reset) {
                    // the JVM died under it: the outcome is read back after the cycle
                }
                return null;
            });
            // Jobs that choose their end now: just before the kill, or while no JVM runs.
            List<JobUnderTest> before = new ArrayList<>();
            List<JobUnderTest> whileDown = new ArrayList<>();
            if (!enders.isEmpty() && random.nextInt(3) < 2) {
                (random.nextBoolean() ? before : whileDown).add(jobs.get(enders.remove(enders.size() - 1)));
            }
            for (JobUnderTest job : before) {
                end(job, random);
            }
            long delay = random.nextInt(40);
            long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
            // The kill's moment is chosen, not awaited: it is meant to land at any point of the request.
            while (System.nanoTime() < killAt) {
                java.util.concurrent.locks.LockSupport.parkNanos(killAt - System.nanoTime());
            }
            ProcessHandle jvmHandle = ProcessHandle.of(jvm).orElseThrow();
            jvmHandle.destroyForcibly();
            Await.until(LONG, () -> !jvmHandle.isAlive(), "the killed JVM to be gone, " + when);
            for (JobUnderTest job : whileDown) {
                end(job, random);
                endedWhileDown++;
            }
            int next = jvm();
            request.get(LONG.toSeconds(), TimeUnit.SECONDS);
            for (JobUnderTest job : jobs.values()) {
                if (job.ending) {
                    Await.until(LONG, () -> Files.exists(job.truth), job.name + " to write its truth");
                }
            }
            // Every job's status, then one pass over /proc for all of them: most jobs agree at
            // once, and a pass per job (50 of them, every cycle) was a third of a cycle.
            Map<String, JsonNode> said = new HashMap<>();
            for (JobUnderTest job : jobs.values()) {
                try {
                    said.put(job.name, status(job.name));
                } catch (IOException | RuntimeException notYet) {
                    said.put(job.name, null); // read again while it settles
                }
            }
            Map<String, List<Integer>> seen = markerPids(jobs.values().stream().map(j -> j.marker).toList());
            for (JobUnderTest job : jobs.values()) {
                exact += check(job, when, said.get(job.name), seen.get(job.marker)) ? 1 : 0;
            }
            Set<Integer> parents = Set.of(keeper, next);
            Await.until(LONG, () -> quietly(() -> zombiesOf(parents).isEmpty()), "no zombie among the keeper's and the JVM's children, "
                    + when);
        }
        System.out.println("CustodyChaosTest: " + CYCLES + " cycles, " + endedWhileDown
                + " jobs ended while no JVM ran, " + exact + " exact exit statuses checked, " + leftovers
                + " cut starts left running for their owner");
        assertTrue(daemon.process().isAlive(), "the keeper lived through every cycle");
        assertEquals(CYCLES, daemon.log().split("restarting it in", -1).length - 1, "one restart per kill");
        // After the chaos, stop and status still work on every job.
        for (JobUnderTest job : jobs.values()) {
            ok("stop", "\"name\":\"" + job.name + "\"");
            assertTrue(markerPids(job.marker).isEmpty(), job.name + " stopped");
        }
    }

    /** A condition that an I/O failure (a JVM going away under a request) makes false for now. */
    private static boolean quietly(java.util.concurrent.Callable<Boolean> condition) {
        try {
            return condition.call();
        } catch (Exception e) {
            return false;
        }
    }

    /** Tells an ender job how to end; it writes that truth, then ends so. */
    private void end(JobUnderTest job, Random random) throws Exception {
        job.ending = true;
        String how = ENDINGS[random.nextInt(ENDINGS.length)];
        Future<?> write = pool.submit(() -> {
            Files.writeString(job.fifo, how + "\n"); // blocks until the job reads: it runs
            return null;
        });
        write.get(LONG.toSeconds(), TimeUnit.SECONDS);
    }

    private JsonNode awaitSettled(JobUnderTest job, String when) {
        return awaitSettled(job, when, null, null);
    }

    /**
     * Waits until blivetd's word and /proc agree about a job; returns its state's node. The first
     * look may be given (a status, then /proc read after it); null: read now.
     */
    private JsonNode awaitSettled(JobUnderTest job, String when, JsonNode firstStatus, List<Integer> firstPids) {
        AtomicReference<JsonNode> last = new AtomicReference<>();
        AtomicReference<List<Integer>> procs = new AtomicReference<>();
        AtomicReference<JsonNode> given = new AtomicReference<>(firstStatus);
        try {
            Await.until(LONG, () -> quietly(() -> {
                JsonNode first = given.getAndSet(null);
                JsonNode now = first != null && firstPids != null ? first : status(job.name);
                List<Integer> pids = first != null && firstPids != null ? firstPids : markerPids(job.marker);
                last.set(now);
                procs.set(pids);
                String state = now.get("state").asText();
                if (state.equals("running")) {
                    // A job told to end has written its truth, and exits right after: not settled yet.
                    return !job.ending && pids.equals(List.of(now.get("pid").asInt()));
                }
                if (job.inFlight && leftBehind(now)) {
                    return pids.size() == 1; // never two: the start that was cut, running unsupervised
                }
                return !List.of("starting", "stopping", "backoff").contains(state) && pids.isEmpty();
            }), job.name + " settled");
        } catch (AssertionError e) {
            throw new AssertionError(job.name + " " + when + ": blivetd says " + last.get() + ", /proc has " + procs.get()
                    + " with its marker", e);
        }
        return last.get();
    }

    /**
     * A start cut between its ledger write and its pid record, whose process runs: its cgroup says
     * so, and blivetd leaves it to its owner rather than guess its pid or start a second instance
     * (docs/architecture.md, "Custody: the ledger").
     */
    private static boolean leftBehind(JsonNode status) {
        return status.get("state").asText().equals("failed")
                && status.path("last_error").asText().contains("processes of the job still run");
    }

    /**
     * After a cycle (every ending job has written its truth): what blivetd says of one job is the
     * truth, from a first look at its status and its processes. Returns whether an exit status was
     * compared.
     */
    private boolean check(JobUnderTest job, String when, JsonNode status, List<Integer> pids) throws Exception {
        JsonNode now = awaitSettled(job, when, status, pids);
        String state = now.get("state").asText();
        String what = job.name + " " + when + ": " + now;
        if (job.inFlight) {
            // Either outcome of an interrupted start or stop; from now on it is the baseline.
            job.inFlight = false;
            job.pid = state.equals("running") ? now.get("pid").asInt() : 0;
            job.stopped = job.pid == 0;
            if (leftBehind(now)) {
                // What its owner is told to do: stop them (blivetd stops the job's cgroup), then start it.
                ok("stop", "\"name\":\"" + job.name + "\"");
                Await.until(LONG, () -> quietly(() -> markerPids(job.marker).isEmpty()), job.name + "'s leftover to be stopped");
                leftovers++;
            } else if (state.equals("failed")) {
                // A start cut between its ledger write and its pid record, without cgroups: never
                // guessed, left to its owner; it must say so, and run nothing (checked above).
                assertTrue(now.path("last_error").asText().contains("before it recorded the pid"), what);
            }
            return false;
        }
        if (job.ending) {
            assertTrue(!state.equals("running"), "an ended job is not running: " + what);
            String truth = Files.readString(job.truth).trim();
            boolean shown = now.has("exit_code") || now.has("exit_signal");
            if (shown) {
                String said = now.has("exit_code") ? "code " + now.get("exit_code").asInt()
                        : "signal " + now.get("exit_signal").asInt();
                assertEquals(truth, said, "the exit status shown is the one the job chose: " + what);
            }
            job.pid = 0;
            boolean first = shown && !job.verified;
            job.verified |= shown;
            return first;
        }
        if (job.stopped) {
            assertTrue(!state.equals("running"), "a stopped job stays down: " + what);
            return false;
        }
        assertEquals("running", state, what);
        assertEquals(job.pid, now.get("pid").asInt(), "the same pid for a job that stayed up: " + what);
        if (job.pidfile != null) {
            assertEquals(Integer.toString(job.pid), Files.readString(job.pidfile).trim(), "its pidfile: " + what);
        }
        return false;
    }
}
