package dev.blivet.daemon.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real blivetd in its own JVM, as an operator would run it, with its socket, jobs directory
 * and state directory under a test's temp dir (made 0755, so that a client dropped to nobody
 * reaches the socket). Its log is kept for failure messages. Shared with blivetctl's tests
 * through blivetd's test-jar.
 */
public final class BlivetdProcess implements AutoCloseable {
    private final Process process;
    private final Path socket;
    private final Path jobsDir;
    private final Path log;

    private BlivetdProcess(Process process, Path socket, Path jobsDir, Path log) {
        this.process = process;
        this.socket = socket;
        this.jobsDir = jobsDir;
        this.log = log;
    }

    /** bin/blivetd's JVM flags, as the build wrote them: the tests run what users run. */
    private static List<String> productionJvmFlags() throws IOException {
        String file = System.getProperty("blivet.jvmFlags");
        if (file == null) {
            throw new IllegalStateException("system property blivet.jvmFlags (blivetd/target/jvm-flags) is not set");
        }
        return List.of(Files.readString(Path.of(file)).trim().split("\\s+"));
    }

    public static BlivetdProcess start(Path dir, String... extraArgs) throws IOException {
        return start(dir, List.of(), System.getProperty("java.class.path"), extraArgs);
    }

    /** A blivetd with {@code env} added to its environment (e.g. a test crash point). */
    public static BlivetdProcess start(Path dir, java.util.Map<String, String> env, String... extraArgs) throws IOException {
        return start(dir, List.of(), System.getProperty("java.class.path"), env, List.of(), extraArgs);
    }

    /**
     * A blivetd whose command line starts with {@code prefix} (e.g. setpriv, to run it as another
     * user) and whose class path is {@code classPath} (one that user can read).
     */
    public static BlivetdProcess start(Path dir, List<String> prefix, String classPath, String... extraArgs)
            throws IOException {
        return start(dir, prefix, classPath, Map.of(), List.of(), extraArgs);
    }

    /** A blivetd under {@code prefix} (e.g. the keeper) with {@code env} added (e.g. a test crash point). */
    public static BlivetdProcess start(Path dir, List<String> prefix, Map<String, String> env, String... extraArgs)
            throws IOException {
        return start(dir, prefix, System.getProperty("java.class.path"), env, List.of(), extraArgs);
    }

    /**
     * A blivetd with {@code env} added to its environment (as systemd adds NOTIFY_SOCKET) and
     * {@code jvmArgs} added to its JVM's flags (test hooks).
     */
    public static BlivetdProcess start(Path dir, Map<String, String> env, List<String> jvmArgs, String... extraArgs)
            throws IOException {
        return start(dir, List.of(), System.getProperty("java.class.path"), env, jvmArgs, extraArgs);
    }

    private static BlivetdProcess start(Path dir, List<String> prefix, String classPath, Map<String, String> env,
            List<String> jvmArgs, String... extraArgs) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path socket = dir.resolve("run/blivetd.sock");
        Path jobs = Files.createDirectories(dir.resolve("jobs"));
        Path log = dir.resolve("blivetd.log");
        List<String> command = new ArrayList<>(prefix);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(productionJvmFlags());
        command.addAll(jvmArgs);
        command.addAll(List.of(
                "-Dblivet.spawnHelper=" + System.getProperty("blivet.spawnHelper"),
                "-cp", classPath,
                "dev.blivet.daemon.Main", "--socket", socket.toString()));
        if (!List.of(extraArgs).contains("--jobs-dir")) { // a test may name its own, even a missing one
            command.addAll(List.of("--jobs-dir", jobs.toString()));
        }
        command.addAll(List.of("--state-dir", dir.resolve("state").toString(), "--log-level", "debug"));
        command.addAll(List.of(extraArgs));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(env);
        Process process = builder.start();
        BlivetdProcess daemon = new BlivetdProcess(process, socket, jobs, log);
        try {
            Await.until(Duration.ofSeconds(30), () -> daemon.accepting() || !process.isAlive(), "blivetd to listen");
        } catch (AssertionError e) {
            daemon.close();
            throw new AssertionError(e.getMessage() + "\n" + daemon.log(), e);
        }
        if (!process.isAlive()) {
            throw new AssertionError("blivetd exited with " + process.exitValue() + ":\n" + daemon.log());
        }
        return daemon;
    }

    /** Answers a ping: connecting alone is not enough, blivetd binds before it has loaded its jobs. */
    private boolean accepting() {
        try (Client client = new Client(socket)) {
            return client.ok("ping", null).has("version");
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    public Path socket() {
        return socket;
    }

    public Path jobsDir() {
        return jobsDir;
    }

    public int pid() {
        return (int) process.pid();
    }

    public Process process() {
        return process;
    }

    public Client client() throws IOException {
        return new Client(socket);
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGKILL, as the OOM killer or an operator's kill -9 would: no clean-up runs; waits until it is gone. */
    public void kill9() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError("blivetd survived SIGKILL for 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for blivetd to exit by itself (a test crash point), and returns its exit code. */
    public int awaitExit(Duration limit) throws InterruptedException {
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("blivetd did not exit within " + limit + ":\n" + log());
        }
        return process.exitValue();
    }

    /**
     * SIGTERM, as systemd would stop it; it stops its jobs and exits. Then its cgroup tree goes, if
     * empty: a keeper's stays behind otherwise (InstanceCgroup), one per test run.
     */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
            InstanceCgroup.removeAfterExit(socket);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
