package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the first real start after boot would do cold is done at boot, before blivetd serves
 * (docs/benchmarks.md, "Issue 13"): read from the JVM's class-loading log of a real blivetd, which
 * names each class as it is loaded or generated, and from its threads in /proc.
 */
class FirstStartTest {
    @TempDir
    Path dir;

    /**
     * A record's equals is bound by ObjectMethods on its first call, which generates method
     * handle code (25-35 ms, interpreted): the ledger's spec record is compared on every start,
     * so the warm-up compares one at boot. (Other method handle code the start path links, its
     * lambdas and string concatenations, comes from the class-data sharing archive that
     * bin/blivetd maps, which these tests' class path cannot use; bench/daemon/first-start.sh
     * measures the whole.)
     */
    @Test
    void theFirstStartFindsTheLedgersRecordComparedAndMakesNoThread() throws Exception {
        Path classes = dir.resolve("classes.log");
        try (BlivetdProcess blivetd = bootWithAKnownJobLoggingClassesTo(classes)) {
            assertTrue(Files.readAllLines(classes).stream().anyMatch(FirstStartTest::objectMethods),
                    "a record was compared before blivetd served");
            try (Client client = blivetd.client()) {
                client.ok("ping", null); // the connection is being served: its thread is there
                Map<String, String> threadsBefore = blivetdThreads(blivetd.pid());
                assertEquals("running", client.ok("start", "\"name\":\"known\"").path("state").asText());
                // A thread made on a start's path is a cold path too: every thread a start
                // needs (the supervisor's, the launch loops', the reaper's) exists once blivetd serves.
                assertEquals(threadsBefore, blivetdThreads(blivetd.pid()), "blivetd's threads, by id, before and after");
                client.ok("stop", "\"name\":\"known\"");
            }
        }
    }

    /**
     * The start rehearsal at boot (StartRehearsal) ran a real start through the code a client's
     * start runs: the first start of a known job after boot then loads none of blivetd's classes
     * and generates none of its lambdas' classes (without the rehearsal it loads 40 or so:
     * the lifecycle's actions, the ledger's run records, the launch's phases, their lambdas).
     */
    @Test
    void theFirstStartLoadsNoneOfBlivetdsClasses() throws Exception {
        Path classes = dir.resolve("classes.log");
        try (BlivetdProcess blivetd = bootWithAKnownJobLoggingClassesTo(classes)) {
            try (Client client = blivetd.client()) {
                client.ok("ping", null);
                int before = Files.readAllLines(classes).size();
                assertEquals("running", client.ok("start", "\"name\":\"known\"").path("state").asText());
                List<String> loaded = Files.readAllLines(classes);
                List<String> blivetds = loaded.subList(before, loaded.size()).stream()
                        .filter(line -> line.contains(" dev.blivet.")).toList();
                assertEquals(List.of(), blivetds, "blivetd's classes loaded by the first start ("
                        + (loaded.size() - before) + " classes in all)");
                client.ok("stop", "\"name\":\"known\"");
            }
        }
    }

    /** A blivetd whose jobs directory holds "known" (autostart false), its JVM logging each class it loads to {@code classes}. */
    private BlivetdProcess bootWithAKnownJobLoggingClassesTo(Path classes) throws java.io.IOException {
        Path jobs = Files.createDirectories(dir.resolve("jobs"));
        Files.writeString(jobs.resolve("known.json"), "{\"name\":\"known\",\"command\":[\"/bin/sleep\",\"600\"],"
                + "\"autostart\":false}");
        return BlivetdProcess.start(dir, Map.of(), List.of("-Xlog:class+load=info:file=" + classes));
    }

    /** blivetd's own threads (not the JVM's, whose compiler threads come and go) by thread id. */
    private static Map<String, String> blivetdThreads(int pid) throws java.io.IOException {
        Map<String, String> threads = new java.util.TreeMap<>();
        try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path task : tasks.toList()) {
                String name;
                try {
                    name = Files.readString(task.resolve("comm")).trim();
                } catch (java.nio.file.NoSuchFileException ended) {
                    continue; // a thread that ended meanwhile (the warm-up's, once its passes are done)
                }
                if (name.startsWith("blivet-") && !name.startsWith("blivet-warmup")) {
                    threads.put(task.getFileName().toString(), name);
                }
            }
        }
        return threads;
    }

    private static boolean objectMethods(String classLoadLine) {
        return classLoadLine.contains(" java.lang.runtime.ObjectMethods ");
    }
}
