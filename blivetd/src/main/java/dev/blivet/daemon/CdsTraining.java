package dev.blivet.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.common.JobSpecJson;
import dev.blivet.common.protocol.ProtocolJson;
import dev.blivet.daemon.launch.ExitStatus;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.ledger.CrashPoints;
import dev.blivet.daemon.ledger.JobLedger;
import dev.blivet.daemon.ledger.LedgerOs;
import dev.blivet.daemon.proc.ProcStat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import picocli.CommandLine;
import sun.misc.Signal;

/**
 * The training run for blivetd's class-data sharing archive (built at package time with
 * {@code -XX:ArchiveClassesAtExit}, then renamed into place only if this exits 0): runs the real
 * blivetd, in this JVM, against a temporary socket, jobs directory and state directory, so that
 * the archive holds what a real start loads: picocli, the jnr bindings, Jackson and the job spec
 * parsing, the supervisor, the control server, the launcher and its helper. It starts a job from
 * the jobs directory and more through the socket, answers a few requests, then stops blivetd
 * with SIGTERM as systemd would; then a second blivetd reads the ledger and re-adopts a job
 * ({@link #restartFromTheLedger}). Build-time only; not a command.
 *
 * <p>A failure exits non-zero with blivetd's log, so that the build fails rather than install an
 * archive of a run that went wrong. Every wait has a deadline; the jobs are stopped by blivetd
 * itself, and anything left over is killed before exit. Works as root and as any other user.
 */
public final class CdsTraining {
    /** Generous for a loaded CI machine: a normal training takes about a second. */
    private static final long DEADLINE_SECONDS = 60;

    private final PrintStream console = System.err;
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final Path dir;
    private final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
    private final ObjectMapper mapper = ProtocolJson.newMapper();

    private CdsTraining(Path dir) {
        this.dir = dir;
    }

    public static void main(String[] args) throws IOException {
        CdsTraining training = new CdsTraining(Files.createTempDirectory("blivetd-cds"));
        PrintStream captured = new PrintStream(training.log, true, StandardCharsets.UTF_8);
        System.setOut(captured);
        System.setErr(captured);
        int status = 0;
        try {
            training.run();
        } catch (Exception | AssertionError e) {
            training.report(e);
            status = 1;
        } finally {
            training.cleanUp();
        }
        // blivetd's client threads may linger; exit as Main.main does.
        System.exit(status);
    }

    private void run() throws Exception {
        Path jobs = Files.createDirectories(dir.resolve("jobs"));
        Path socket = dir.resolve("run/blivetd.sock");
        Path state = dir.resolve("state");
        Files.writeString(jobs.resolve("sleeper.json"), "{\"name\":\"sleeper\",\"command\":[\"/bin/sleep\",\"600\"],"
                + "\"autostart\":true}");
        Files.writeString(jobs.resolve("hello.json"), "{\"name\":\"hello\",\"command\":[\"/bin/echo\",\"hello\"],"
                + "\"stdout\":" + mapper.writeValueAsString(dir.resolve("hello.log").toString()) + "}");

        expectExit(0, "--version");
        expectExit(0, "--help");
        expectExit(2, "--no-such-option");

        log.reset();
        CompletableFuture<Integer> exit = serve(socket, jobs, state, "blivetd", "blivetd");
        reportFatalThreadDeaths();

        try (SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            client.connect(UnixDomainSocketAddress.of(socket));
            Session session = new Session(client);
            session.ok("{\"op\":\"ping\"}");
            session.settles("sleeper", "running");
            session.ok("{\"op\":\"list\"}");
            session.ok("{\"op\":\"start\",\"name\":\"hello\"}");
            session.settles("hello", "exited");
            session.ok("{\"op\":\"logs\",\"name\":\"hello\",\"lines\":5}");
            session.ok("{\"op\":\"start\",\"spec\":{\"name\":\"inline\",\"command\":[\"/bin/sleep\",\"600\"]}}");
            session.ok("{\"op\":\"signal\",\"name\":\"inline\",\"signal\":\"CONT\"}");
            session.ok("{\"op\":\"stop\",\"name\":\"inline\"}");
            session.ok("{\"op\":\"status\"}");
            session.ok("{\"op\":\"status\",\"name\":\"sleeper\"}");
            session.error("{\"op\":\"status\",\"name\":\"nosuch\"}", "not_found");
            session.error("{\"op\":\"start\",\"spec\":{\"name\":\"bad\"}}", "invalid_spec");
        }

        // As systemd stops it: blivetd stops its jobs, writes its state and returns.
        stop(exit, "blivetd");
        List<ProcessHandle> left = ProcessHandle.current().descendants().toList();
        if (!left.isEmpty()) {
            throw new AssertionError("blivetd stopped but left processes behind: " + describe(left));
        }
        checkLog();
        restartFromTheLedger(socket, jobs, state);
    }

    /**
     * A second blivetd on the same directories, as after a crash: it reads the spec records the
     * first left and a run record per job that still runs, so the classes of the ledger's read
     * side and of re-adoption come from the archive too, where a restart with a thousand jobs
     * spends most of its time (docs/benchmarks.md, "Custody"). The job to re-adopt is a
     * {@code sleep} in a session of its own ({@code setsid}, so a signal to its group reaches it
     * alone), recorded as blivetd records a start; without {@code setsid} only the load is trained.
     */
    private void restartFromTheLedger(Path socket, Path jobs, Path state) throws Exception {
        Process adoptee = null;
        Path setsid = Path.of("/usr/bin/setsid");
        if (Files.isExecutable(setsid)) {
            adoptee = new ProcessBuilder(setsid.toString(), "/bin/sleep", "600").redirectErrorStream(true).start();
        }
        try (JobLedger ledger = JobLedger.open(new LedgerOs(new NativeOs()), state, socket.getParent(), CrashPoints.none(),
                new Log(System.err, Log.Level.WARN))) {
            int uid = new NativeOs().posix().geteuid();
            ledger.accepted("ended", uid, "client", new JobSpecJson().parse("{\"name\":\"ended\",\"command\":[\"/bin/true\"]}"));
            ledger.starting("ended", 1);
            ledger.flush();
            ledger.over("ended", 1, new ExitStatus(3, 0, false));
            if (adoptee != null && ownSession(adoptee.pid())) {
                ledger.accepted("adopted", uid, "client", new JobSpecJson().parse(
                        "{\"name\":\"adopted\",\"command\":[\"/bin/sleep\",\"600\"]}"));
                ledger.starting("adopted", 1);
                ledger.forked("adopted", 1, ProcStat.of((int) adoptee.pid()));
            }
        }
        log.reset();
        CompletableFuture<Integer> exit = serve(socket, jobs, state, "blivetd-again", "the second blivetd");
        try (SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            client.connect(UnixDomainSocketAddress.of(socket));
            Session session = new Session(client);
            session.ok("{\"op\":\"list\"}");
            // The autostart job starts again; a SIGTERM in the middle of its start is not what this trains.
            session.settles("sleeper", "running");
            if (adoptee != null && !session.ok("{\"op\":\"status\",\"name\":\"adopted\"}").path("state").asText()
                    .equals("running")) {
                throw new AssertionError("the second blivetd did not re-adopt pid " + adoptee.pid());
            }
        }
        stop(exit, "the second blivetd");
        if (adoptee != null && !adoptee.waitFor(remainingNanos(), TimeUnit.NANOSECONDS)) {
            throw new AssertionError("the second blivetd did not stop the job it re-adopted, pid " + adoptee.pid());
        }
        checkLog();
    }

    /** Runs blivetd on these directories in a thread named {@code thread}; returns once it serves. */
    private CompletableFuture<Integer> serve(Path socket, Path jobs, Path state, String thread, String which)
            throws Exception {
        Main main = new Main();
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        new Thread(() -> exit.complete(new CommandLine(main).execute("--socket", socket.toString(),
                "--jobs-dir", jobs.toString(), "--state-dir", state.toString())), thread).start();
        CompletableFuture.anyOf(main.serving, exit).get(remainingNanos(), TimeUnit.NANOSECONDS);
        if (exit.isDone()) {
            throw new AssertionError(which + " exited with " + exit.get() + " instead of serving");
        }
        return exit;
    }

    /** SIGTERM, as systemd stops it: blivetd stops its jobs and must exit 0. */
    private void stop(CompletableFuture<Integer> exit, String which) throws Exception {
        Signal.raise(new Signal("TERM"));
        int code = exit.get(remainingNanos(), TimeUnit.NANOSECONDS);
        if (code != 0) {
            throw new AssertionError(which + " exited with " + code + " after SIGTERM");
        }
    }

    /** Whether {@code pid} leads a session of its own: only then may its group be signalled. */
    private static boolean ownSession(long pid) {
        ProcStat stat = ProcStat.of((int) pid);
        return stat != null && stat.pgid() == pid;
    }

    private void checkLog() {
        String text = log.toString(StandardCharsets.UTF_8);
        if (text.contains(" ERROR ") || text.contains(" WARN ")) {
            throw new AssertionError("blivetd logged a warning or an error");
        }
    }

    /** Runs a command line that returns at once (help, version, usage errors). */
    private static void expectExit(int expected, String... args) {
        int code = new CommandLine(new Main()).execute(args);
        if (code != expected) {
            throw new AssertionError("blivetd " + String.join(" ", args) + " exited with " + code + ", expected "
                    + expected);
        }
    }

    /**
     * blivetd halts the JVM when one of its threads dies (see Main): say why first, and leave no
     * job or temporary file behind.
     */
    private void reportFatalThreadDeaths() {
        Thread.UncaughtExceptionHandler halt = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, error) -> {
            report(new AssertionError("thread " + thread.getName() + " died", error));
            cleanUp();
            halt.uncaughtException(thread, error);
        });
    }

    private long remainingNanos() throws TimeoutException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new TimeoutException("not done within " + DEADLINE_SECONDS + " s");
        }
        return left;
    }

    /** One connection: a request, then its response line, each under the deadline. */
    private final class Session {
        private final SocketChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private int id;

        Session(SocketChannel channel) {
            this.channel = channel;
        }

        JsonNode ok(String request) throws Exception {
            JsonNode response = exchange(request);
            if (!response.path("ok").asBoolean()) {
                throw new AssertionError(request + " failed: " + response);
            }
            return response.path("result");
        }

        /** Waits for the job to reach {@code state}, or a state it would not leave by itself soon. */
        void settles(String job, String state) throws Exception {
            JsonNode result = ok("{\"op\":\"wait\",\"name\":\"" + job + "\",\"state\":[\"" + state + "\",\"exited\","
                    + "\"failed\",\"backoff\"],\"timeout\":30}");
            if (!state.equals(result.path("state").asText())) {
                throw new AssertionError("job " + job + " is " + result + ", expected " + state);
            }
        }

        void error(String request, String code) throws Exception {
            JsonNode response = exchange(request);
            if (!code.equals(response.path("error").path("code").asText())) {
                throw new AssertionError(request + " answered " + response + ", expected error " + code);
            }
        }

        private JsonNode exchange(String request) throws Exception {
            int sent = ++id;
            String numbered = "{\"id\":" + sent + "," + request.substring(1) + "\n";
            channel.write(ByteBuffer.wrap(numbered.getBytes(StandardCharsets.UTF_8)));
            JsonNode response = mapper.readTree(CompletableFuture.supplyAsync(this::readLine)
                    .get(remainingNanos(), TimeUnit.NANOSECONDS));
            if (response.path("id").asInt() != sent) {
                throw new AssertionError(request + " answered " + response + " (id " + sent + " expected)");
            }
            return response;
        }

        private String readLine() {
            try {
                while (true) {
                    buffer.flip();
                    while (buffer.hasRemaining()) {
                        byte b = buffer.get();
                        if (b == '\n') {
                            buffer.compact();
                            String text = line.toString(StandardCharsets.UTF_8);
                            line.reset();
                            return text;
                        }
                        line.write(b);
                    }
                    buffer.clear();
                    if (channel.read(buffer) < 0) {
                        throw new IOException("blivetd closed the connection");
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void report(Throwable error) {
        Throwable cause = error instanceof ExecutionException && error.getCause() != null ? error.getCause() : error;
        console.println("blivetd CDS training failed, so no class-data sharing archive: " + cause);
        cause.printStackTrace(console);
        console.println("blivetd's output during the training:");
        console.print(log.toString(StandardCharsets.UTF_8));
        console.flush();
    }

    private synchronized void cleanUp() {
        List<ProcessHandle> left = new ArrayList<>(ProcessHandle.current().descendants().toList());
        left.forEach(ProcessHandle::destroyForcibly);
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        } catch (IOException e) {
            console.println("blivetd CDS training: cannot remove " + dir + ": " + e);
        }
    }

    private static String describe(List<ProcessHandle> processes) {
        StringBuilder text = new StringBuilder();
        for (ProcessHandle process : processes) {
            text.append(text.length() == 0 ? "" : ", ").append(process.pid()).append(' ')
                    .append(process.info().commandLine().orElse("?"));
        }
        return text.toString();
    }
}
