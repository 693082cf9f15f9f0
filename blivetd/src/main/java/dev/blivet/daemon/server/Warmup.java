package dev.blivet.daemon.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.JobSpec;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.SpecException;
import dev.blivet.common.StrictJson;
import dev.blivet.common.protocol.JobState;
import dev.blivet.common.protocol.Op;
import dev.blivet.common.protocol.Protocol;
import dev.blivet.daemon.launch.PlanEncoder;
import dev.blivet.daemon.supervisor.JobSnapshot;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.ToLongFunction;

/**
 * Runs the Java side of a start once per iteration, with no side effect, so that the first real
 * start after boot finds its code loaded, linked and (after enough iterations) compiled: the
 * request read by the strict reader, the spec bound to a JobSpec and resolved for root and for
 * another uid (the validate op: the same parser and resolver a start uses, and nothing stored),
 * the ledger's records of the start encoded and compared (never written), the launch up to the
 * spawn (plan, memfd, pipes, file actions, made and undone), a JobSnapshot reply written. Measured in docs/benchmarks.md (issue 13): cold,
 * building Jackson's JobSpec deserializer and JobSnapshot serializer alone took 60 ms of the
 * first start.
 *
 * <p>Nothing here touches the supervisor, a socket, a file or a process: the resolver only
 * probes (stat, access) what the sample spec names, all of it in /, and the dry launch closes
 * every fd it made. Thread safe as the
 * {@link RequestHandler} is, so it may run beside the first clients. What a dry start cannot reach
 * (the supervisor's start, the spawn, the reaper) the first pass begins with: the
 * {@link StartRehearsal}, real starts in a sandbox of their own.
 */
public final class Warmup {
    /** C1's -XX:Tier3InvocationThreshold when no flag sets it. */
    private static final int DEFAULT_INVOCATION_THRESHOLD = 200;
    /**
     * The most passes, whatever the flags: past a few hundred a pass is not worth its CPU beside
     * the first clients, and a threshold scaled up a hundredfold must not keep a core busy for minutes.
     */
    private static final int MAX_PASSES = 1000;

    /** The longest a background pass waits for the requests in flight to be answered. */
    static final long YIELD_TO_CLIENTS_MS = 100;

    private static final StrictJson REQUESTS = new StrictJson(Protocol.REQUEST_LIMITS);
    /** A spec as a client sends it: every common key, each path one the resolver may probe harmlessly. */
    private static final byte[] START = ("{\"id\":1,\"op\":\"start\",\"wait\":true,\"spec\":{\"name\":\"blivet-warmup\","
            + "\"command\":[\"/bin/sh\",\"-c\",\"exit 0\"],\"env\":{\"WARM\":\"1\"},\"chdir\":\"/\",\"umask\":\"022\","
            + "\"readiness\":\"exec\",\"ready_timeout\":5,\"restart\":\"no\"}}").getBytes(StandardCharsets.UTF_8);
    private static final int NOBODY = 65534;

    private final RequestHandler handler;
    private final Replies replies;
    private final Consumer<ResolvedJob> dryLaunch;
    private final ToLongFunction<JobSpec> dryRecords;
    private final Runnable rehearsal;

    /**
     * @param dryLaunch a launch up to the spawn, never the spawn ({@code Launcher::dryRun})
     * @param dryRecords the ledger's records of a start, encoded and never written ({@code JobLedger::rehearse})
     */
    public Warmup(RequestHandler handler, ObjectMapper mapper, Consumer<ResolvedJob> dryLaunch,
            ToLongFunction<JobSpec> dryRecords) {
        this(handler, mapper, dryLaunch, dryRecords, () -> { });
    }

    /**
     * @param rehearsal real starts, in the first pass ({@link StartRehearsal#run}): never throws
     */
    public Warmup(RequestHandler handler, ObjectMapper mapper, Consumer<ResolvedJob> dryLaunch,
            ToLongFunction<JobSpec> dryRecords, Runnable rehearsal) {
        this.handler = handler;
        this.dryLaunch = dryLaunch;
        this.dryRecords = dryRecords;
        this.rehearsal = rehearsal;
        this.replies = new Replies(mapper); // the same mapper, so the same serializer cache
    }

    /**
     * Runs the dry starts on a thread of their own, created here at boot (never on a start path),
     * which ends when they are done. The future completes after the first one, the one that loads
     * classes and builds Jackson's (de)serializers: the rest only lets C1 compile, which may go on
     * while blivetd serves, each pass only while no client's request is being answered (on 2
     * cores a pass beside the first start after boot made it slower, not faster). A failure (a
     * system without /bin/sh) ends the warm-up, never blivetd.
     */
    public CompletableFuture<Void> inBackground(int iterations, Consumer<String> debug) {
        return inBackground(() -> iterations, CompletableFuture.completedFuture(null), debug);
    }

    /**
     * As {@link #inBackground(int, Consumer)}, the number of passes asked for after the first one
     * ({@link #passesForThisJvm}, off the boot's path), the passes after the first waiting for
     * {@code serving}: on 2 cores their compilation would otherwise take CPU from re-adoption,
     * which no one is served before (1000 jobs: docs/benchmarks.md, "Re-adoption after a kill -9").
     */
    public CompletableFuture<Void> inBackground(IntSupplier iterations, CompletableFuture<?> serving, Consumer<String> debug) {
        CompletableFuture<Void> firstDone = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            long start = System.nanoTime();
            try {
                // First: it also clears what a crashed boot's rehearsal left, whatever the dry pass does.
                rehearsal.run();
                run(1);
                firstDone.complete(null);
                debug.accept("warm-up: first dry start " + (System.nanoTime() - start) / 1_000_000 + " ms");
                serving.join();
                int passes = iterations.getAsInt();
                for (int i = 1; i < passes; i++) {
                    // A client's start goes first: these only compile it (bounded: see Answering).
                    handler.answering().awaitNone(YIELD_TO_CLIENTS_MS);
                    once();
                }
                debug.accept("warm-up: " + passes + " dry starts in " + (System.nanoTime() - start) / 1_000_000 + " ms");
            } catch (RuntimeException | LinkageError | VirtualMachineError e) {
                debug.accept("warm-up abandoned: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                firstDone.complete(null);
            }
        }, "blivet-warmup");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
        return firstDone;
    }

    /** {@link #passesFor} this JVM's own command line (/proc/self/cmdline): what it was started with. */
    public static int passesForThisJvm() {
        return passesFor(ProcessHandle.current().info().arguments().map(List::of).orElse(List.of()));
    }

    /**
     * Enough passes for C1 to compile what a pass calls once, under the compile threshold of a JVM
     * started with {@code jvmArguments}, and a margin: passes beyond it only take CPU from the first
     * clients, too few leave the first clients' starts interpreted. C1 is asked to compile a method
     * after about Tier3InvocationThreshold times CompileThresholdScaling calls (blivetd's flags,
     * blivetd.jvm.flags in blivetd/pom.xml: 200 times 0.1; BLIVETD_JAVA_OPTS may set others); the
     * interpreter looks only every few calls, and a long compile queue raises the threshold, hence
     * half as many again.
     */
    static int passesFor(List<String> jvmArguments) {
        double threshold = flag(jvmArguments, "Tier3InvocationThreshold", DEFAULT_INVOCATION_THRESHOLD)
                * flag(jvmArguments, "CompileThresholdScaling", 1.0);
        return (int) Math.min(MAX_PASSES, Math.max(1, Math.ceil(threshold * 1.5)));
    }

    /** The last -XX:NAME=VALUE among the arguments, as the JVM takes the last; the default if none parses. */
    private static double flag(List<String> jvmArguments, String name, double absent) {
        String prefix = "-XX:" + name + "=";
        double value = absent;
        for (String argument : jvmArguments) {
            if (argument.startsWith(prefix)) {
                try {
                    value = Double.parseDouble(argument.substring(prefix.length()));
                } catch (NumberFormatException e) {
                    // the JVM would not have started with it: not this JVM's arguments
                }
            }
        }
        return value;
    }

    /** Runs {@code iterations} dry starts; returns how many bytes of replies it produced (kept live). */
    public long run(int iterations) {
        long produced = 0;
        for (int i = 0; i < iterations; i++) {
            produced += once();
        }
        return produced;
    }

    private long once() {
        try {
            JsonNode parsed = REQUESTS.parse(START, 0, START.length);
            ObjectNode request = (ObjectNode) parsed;
            Op op = Op.fromWire(request.get("op").asText()).orElseThrow();
            long produced = op.ordinal();
            JobSpec spec = handler.specOnly(request.get("spec"));
            produced += dryRecords.applyAsLong(spec);
            for (int uid : new int[] {0, NOBODY}) {
                JsonNode validated = handler.handle(Op.VALIDATE, request, new Peer(0, uid, uid)).get();
                produced += replies.line(replies.ok(request.get("id"), validated)).length;
                ResolvedJob resolved = handler.resolveOnly(spec, uid);
                produced += new PlanEncoder().encode(resolved, resolved.env()).length;
                dryLaunch.accept(resolved);
            }
            Instant now = Instant.now();
            JobSnapshot snapshot = new JobSnapshot("blivet-warmup", JobState.RUNNING, 2, 1, 0, now, now, null, null, null,
                    null, 0, null, null, "client", true, null);
            produced += replies.line(replies.ok(request.get("id"), replies.job(snapshot))).length;
            produced += now.toString().length(); // the log's timestamp
            return produced;
        } catch (JsonProcessingException | SpecException | ExecutionException e) {
            throw new IllegalStateException("the warm-up's own request failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }
}
