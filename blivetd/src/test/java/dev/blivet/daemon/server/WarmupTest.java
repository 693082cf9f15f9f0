package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.common.FileSystemProbe;
import dev.blivet.common.PathFacts;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import dev.blivet.common.SystemProbe;
import dev.blivet.common.protocol.ProtocolJson;
import dev.blivet.common.JobSpecJson;
import dev.blivet.daemon.Log;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.ledger.CrashPoints;
import dev.blivet.daemon.ledger.JobLedger;
import dev.blivet.daemon.ledger.LedgerOs;
import dev.blivet.daemon.testing.Await;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The boot-time dry starts: they run the start's Java side and leave nothing behind. */
class WarmupTest {
    private final ObjectMapper mapper = ProtocolJson.newMapper();

    @TempDir
    Path tmp;

    /** Only validate and the resolver are reached: a supervisor or jobs directory would be a side effect. */
    private RequestHandler handler(JobSpecResolver resolver) {
        return new RequestHandler(null, resolver, null, mapper);
    }

    @Test
    void dryStartsResolveTheirSpecAndStartNothing() {
        long before = ProcessHandle.current().descendants().count();
        List<String> launched = new CopyOnWriteArrayList<>();
        long produced = new Warmup(handler(new JobSpecResolver(new NativeAccounts(), Map.of())), mapper,
                job -> launched.add(job.name()), spec -> 0).run(3);
        assertTrue(produced > 0, "replies and plans were produced");
        assertEquals(List.of("blivet-warmup", "blivet-warmup", "blivet-warmup", "blivet-warmup", "blivet-warmup",
                "blivet-warmup"), launched, "each dry start went to the dry launch, for root and another uid");
        assertEquals(before, ProcessHandle.current().descendants().count(), "no process was started");
    }

    /**
     * The ledger's side of a dry start encodes its records and compares them, and writes none,
     * not even over a real job that bears the sample's name.
     */
    @Test
    void dryStartsEncodeTheLedgersRecordsAndWriteNone() throws Exception {
        Path state = tmp.resolve("state");
        Path runtime = Files.createDirectories(tmp.resolve("run"));
        Log quiet = new Log(new PrintStream(OutputStream.nullOutputStream()), Log.Level.ERROR);
        try (JobLedger ledger = JobLedger.open(new LedgerOs(new NativeOs()), state, runtime, CrashPoints.none(), quiet)) {
            ledger.accepted("blivet-warmup", 0, "client", new JobSpecJson().parse(
                    "{\"name\":\"blivet-warmup\",\"command\":[\"/bin/true\"]}"));
            ledger.starting("blivet-warmup", 7);
            Map<Path, String> before = contents(tmp);
            List<String> rehearsed = new CopyOnWriteArrayList<>();
            long produced = new Warmup(handler(new JobSpecResolver(new NativeAccounts(), Map.of())), mapper, job -> { },
                    spec -> {
                        rehearsed.add(spec.name());
                        return ledger.rehearse(spec);
                    }).run(2);
            assertTrue(produced > 0, "records were encoded");
            assertEquals(List.of("blivet-warmup", "blivet-warmup"), rehearsed, "each dry start encoded the ledger's records");
            assertEquals(before, contents(tmp), "the ledger's directories are as they were");
        }
    }

    /** Every file and directory under {@code root}, with its content and modification time. */
    private static Map<Path, String> contents(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.collect(java.util.stream.Collectors.toMap(path -> path, path -> {
                try {
                    return Files.getLastModifiedTime(path) + (Files.isRegularFile(path) ? " " + Files.readString(path) : "");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
    }

    /** The rehearsal runs in the first pass, which blivetd waits for before it serves, and once. */
    @Test
    void theRehearsalRunsOnceBeforeTheFirstPassIsDone() throws Exception {
        List<String> steps = new CopyOnWriteArrayList<>();
        java.util.concurrent.CompletableFuture<Void> serving = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CompletableFuture<Void> first = new Warmup(handler(new JobSpecResolver(new NativeAccounts(),
                Map.of())), mapper, job -> steps.add("dry start"), spec -> 0, () -> steps.add("rehearsal"))
                .inBackground(() -> 3, serving, line -> { });
        first.get(60, TimeUnit.SECONDS);
        assertEquals(List.of("rehearsal", "dry start", "dry start"), steps, "the rehearsal, then one dry start (root, nobody)");
        serving.complete(null);
        Await.until(Duration.ofSeconds(60), () -> steps.size() == 7, "the two other passes, with two dry starts each");
        assertEquals(1, steps.stream().filter("rehearsal"::equals).count(), "rehearsed once");
    }

    @Test
    void aFailingWarmupEndsItselfNotBlivetd() throws Exception {
        // A system where the sample's program is missing: the resolver refuses it.
        SystemProbe real = new FileSystemProbe();
        SystemProbe noProgram = new SystemProbe() {
            @Override
            public PathFacts look(Path path) {
                return path.toString().equals("/bin/sh") ? PathFacts.MISSING : real.look(path);
            }

            @Override
            public PathFacts follow(Path path) {
                return path.toString().equals("/bin/sh") ? PathFacts.MISSING : real.follow(path);
            }

            @Override
            public Optional<String> whyNotWritable(Path path) {
                return real.whyNotWritable(path);
            }

            @Override
            public boolean isExecutable(Path file) {
                return false;
            }
        };
        List<String> said = new CopyOnWriteArrayList<>();
        Warmup warmup = new Warmup(handler(new JobSpecResolver(new NativeAccounts(), noProgram, Map.of())), mapper,
                job -> { }, spec -> 0);
        warmup.inBackground(5, said::add).get(60, TimeUnit.SECONDS);
        assertTrue(said.stream().anyMatch(line -> line.startsWith("warm-up abandoned")), "said why it stopped: " + said);
    }

    /**
     * While a client's request is answered, each background pass first waits for it, but only so
     * long (Warmup.YIELD_TO_CLIENTS_MS): a request that never ends (a start waiting an hour for
     * readiness) slows the warm-up down and cannot stop it.
     */
    @Test
    void theBackgroundPassesYieldToAClientsRequestButAreNotHeldByIt() throws Exception {
        RequestHandler handler = handler(new JobSpecResolver(new NativeAccounts(), Map.of()));
        List<String> launched = new CopyOnWriteArrayList<>();
        List<String> said = new CopyOnWriteArrayList<>();
        handler.forConnection().answering().begin(); // a client's start, on its connection's handler
        new Warmup(handler, mapper, job -> launched.add(job.name()), spec -> 0).inBackground(5, said::add)
                .get(60, TimeUnit.SECONDS);
        Await.until(Duration.ofSeconds(60), () -> Thread.getAllStackTraces().entrySet().stream().anyMatch(
                t -> t.getKey().getName().equals("blivet-warmup") && t.getKey().getState() == Thread.State.TIMED_WAITING
                        && java.util.Arrays.stream(t.getValue()).anyMatch(frame -> frame.getMethodName().equals("awaitNone"))),
                "the warm-up to wait for the request");
        Await.until(Duration.ofSeconds(60), () -> said.stream().anyMatch(line -> line.startsWith("warm-up: 5 dry starts")),
                "the other passes to run although the request is never answered: " + said);
        assertEquals(10, launched.size());
        handler.answering().end();
    }

    /**
     * The passes are counted for the compile threshold a JVM runs with: under a lower one they
     * would only take CPU from the first clients, under a higher one the first clients' starts
     * would run interpreted code.
     */
    @Test
    void thePassesAreCountedForTheCompileThresholdOfTheJvmsFlags() {
        assertEquals(300, Warmup.passesFor(List.of("-XX:+UseSerialGC")), "C1 after 200 calls: 300 passes");
        assertEquals(30, Warmup.passesFor(List.of("-XX:CompileThresholdScaling=0.1")), "after 20 calls: 30");
        assertEquals(75, Warmup.passesFor(List.of("-XX:CompileThresholdScaling=0.1", "-XX:Tier3InvocationThreshold=100",
                "-XX:CompileThresholdScaling=0.5")), "the last of a flag counts, as for the JVM");
        assertEquals(1000, Warmup.passesFor(List.of("-XX:CompileThresholdScaling=100")), "a thousand passes at most");
    }

    /**
     * blivetd reads its own command line, so an operator's BLIVETD_JAVA_OPTS count too. This JVM
     * runs with blivetd's flags (surefire's argLine, from the same property as target/jvm-flags).
     */
    @Test
    void blivetdCountsThePassesFromItsOwnCommandLine() throws IOException {
        List<String> flags = List.of(Files.readString(Path.of(System.getProperty("blivet.jvmFlags"))).trim().split("\\s+"));
        assertTrue(flags.contains("-XX:CompileThresholdScaling=0.1"), "blivetd's flags lower the compile threshold: " + flags);
        assertEquals(Warmup.passesFor(flags), Warmup.passesForThisJvm(), "read from this JVM's command line");
        assertEquals(30, Warmup.passesForThisJvm());
    }
}
