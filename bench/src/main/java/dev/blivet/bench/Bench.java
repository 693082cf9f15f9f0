package dev.blivet.bench;

import dev.blivet.common.JobSpecJson;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.SpecException;
import dev.blivet.daemon.launch.ExitStatus;
import dev.blivet.daemon.launch.LaunchResult;
import dev.blivet.daemon.launch.Launcher;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.launch.Reaper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What both benchmarks share: one launcher in a JVM that is a child subreaper with exactly one
 * {@link Reaper}, as in blivetd. Nothing in a JVM made by this class may use ProcessBuilder: the
 * reaper owns waitpid(-1).
 */
final class Bench {

    final NativeOs os = new NativeOs();
    final Reaper reaper;
    final Launcher launcher;
    final Path work;
    /** Exits reaped before anyone claimed them (e.g. an intermediate that exited before its claim). */
    final AtomicLong exitsBeforeClaim = new AtomicLong();
    private final JobSpecResolver resolver = new JobSpecResolver(new NativeAccounts(), Map.of());

    Bench(Path helper, Path work) throws IOException {
        Files.createDirectories(work);
        this.work = work;
        Reaper.becomeSubreaper(os);
        this.reaper = new Reaper(os, (pid, exit, claimed) -> {
            if (!claimed) {
                exitsBeforeClaim.incrementAndGet();
            }
        });
        this.launcher = new Launcher(os, reaper, helper, work.resolve("notify"));
    }

    ResolvedJob job(String json) {
        try {
            return resolver.resolve(new JobSpecJson().parse(json));
        } catch (SpecException e) {
            throw new IllegalArgumentException("bad bench job spec " + json + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stops a started job the way the brief asks (SIGKILL to its process group) and waits for the
     * reaper to deliver its exit.
     *
     * @return the exit, or null when the reaper did not deliver it within the timeout (lost)
     */
    ExitStatus stop(LaunchResult.Started started, long timeoutMillis) {
        os.posix().kill(-started.pgid(), dev.blivet.common.Signals.SIGKILL);
        try {
            return started.exit().get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            if (started.notifySocket() != null) {
                started.notifySocket().close();
            }
        }
    }

    /** Whether pid runs /bin/sleep (as /proc/PID/exe resolves it: /usr/bin/sleep on merged /usr). */
    static boolean runs(int pid, Path exe) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).equals(exe.toRealPath());
        } catch (IOException e) {
            return false;
        }
    }

    /** Number of open fds of this JVM. */
    static long openFds() {
        try (var list = Files.list(Path.of("/proc/self/fd"))) {
            return list.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Live children of this JVM (zombies included), read from /proc: no ProcessBuilder here. */
    static long children() {
        return ProcessHandle.current().children().count();
    }

    /** --key value arguments. */
    static Map<String, String> args(String[] argv, String usage) {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < argv.length; i++) {
            if (!argv[i].startsWith("--") || i + 1 == argv.length) {
                System.err.println("usage: " + usage);
                System.exit(2);
            }
            map.put(argv[i].substring(2), argv[++i]);
        }
        return map;
    }

    static String fmt(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }
}
