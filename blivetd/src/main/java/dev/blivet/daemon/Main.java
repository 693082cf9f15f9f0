package dev.blivet.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.common.ExitCode;
import dev.blivet.common.Defaults;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import dev.blivet.common.SocketPaths;
import dev.blivet.common.Version;
import dev.blivet.common.protocol.ProtocolJson;
import dev.blivet.daemon.launch.Launcher;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.launch.Reaper;
import dev.blivet.daemon.launch.TrustedPath;
import dev.blivet.daemon.server.ControlServer;
import dev.blivet.daemon.server.RequestHandler;
import dev.blivet.daemon.server.Warmup;
import dev.blivet.daemon.supervisor.JobsDirectory;
import dev.blivet.daemon.supervisor.Limits;
import dev.blivet.daemon.supervisor.ReloadReport;
import dev.blivet.daemon.supervisor.Supervisor;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** blivetd: runs in the foreground (systemd or a terminal runs it) and logs to stderr. */
@Command(name = "blivetd", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "The blivet daemon: starts jobs as proper daemons, supervises them, and answers blivetctl"
                + " and scripts on a Unix socket.",
        footer = {"", SocketPaths.RULE,
                "Signals: SIGHUP reloads the jobs directory; SIGTERM and SIGINT stop every job, then blivetd."})
public final class Main implements Callable<Integer> {
    /** Exit code when blivetd cannot start (socket taken, directory unusable). */
    static final int EXIT_CANNOT_START = ExitCode.UNAVAILABLE.code();
    /** Exit code when a thread died of an unforeseen error. */
    static final int EXIT_INTERNAL = ExitCode.SOFTWARE.code();
    /** Exit code for options that parse but make no sense (a limit of 0): picocli's usage error. */
    static final int EXIT_USAGE = 2;

    /**
     * Completed once blivetd answers on its socket and has its signal handlers: from then on a
     * SIGTERM stops it cleanly. CdsTraining runs blivetd inside its own JVM and must not talk to
     * it or signal it before then.
     */
    final CompletableFuture<Void> serving = new CompletableFuture<>();

    @Option(names = "--socket", paramLabel = "PATH", description = "Unix socket to listen on.")
    String socket;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where blivetd keeps its state (default /var/lib/blivetd as root, else"
                    + " $XDG_STATE_HOME/blivetd or ~/.local/state/blivetd).")
    Path stateDir;

    @Option(names = "--jobs-dir", paramLabel = "DIR",
            description = "Job specs (*.json) to load at start and on reload (default /etc/blivetd/jobs.d as root,"
                    + " else $XDG_CONFIG_HOME/blivetd/jobs.d or ~/.config/blivetd/jobs.d).")
    Path jobsDir;

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
            description = "error, warn, info or debug (default ${DEFAULT-VALUE}).")
    String logLevel;

    @Option(names = Limits.JOBS_OPTION, paramLabel = "N", defaultValue = "" + Defaults.MAX_JOBS_PER_USER,
            description = "Jobs one non-root user may have, in any state (default ${DEFAULT-VALUE}); root is not limited.")
    int maxJobsPerUser;

    @Option(names = Limits.STARTS_OPTION, paramLabel = "N", defaultValue = "" + Defaults.MAX_STARTS_PER_USER,
            description = "Starts one non-root user may have waiting for readiness at once (default ${DEFAULT-VALUE});"
                    + " a start past it is refused, a restart past it waits its turn; root is not limited.")
    int maxStartsPerUser;

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"blivetd " + Version.get()};
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Log log = new Log(System.err, Log.parseLevel(logLevel));
        // A thread that dies of something unforeseen leaves blivetd half alive: better to exit
        // loudly and let systemd restart it than to hang with jobs nobody supervises.
        Thread.setDefaultUncaughtExceptionHandler((thread, error) -> {
            log.error("fatal: thread " + thread.getName() + " died: " + error);
            Runtime.getRuntime().halt(EXIT_INTERNAL);
        });
        Limits limits;
        try {
            limits = new Limits(maxJobsPerUser, maxStartsPerUser);
        } catch (IllegalArgumentException e) {
            log.error(e.getMessage());
            return EXIT_USAGE;
        }
        NativeOs os = new NativeOs();
        Map<String, String> env = System.getenv();
        int euid = os.posix().geteuid();
        Path socketPath = SocketPaths.resolve(socket, env, euid);
        Path jobs = jobsDir != null ? jobsDir : DaemonPaths.jobsDir(euid, env);
        Path state = stateDir != null ? stateDir : DaemonPaths.stateDir(euid, env);

        try {
            RuntimeDirectory.prepare(socketPath.getParent(), euid);
        } catch (java.io.IOException e) {
            log.error("cannot use the socket directory: " + e.getMessage());
            return EXIT_CANNOT_START;
        }
        Reaper.becomeSubreaper(os);
        Reaper reaper = new Reaper(os, (pid, exit) -> log.debug("reaped pid " + pid + " (" + exit.describe() + ")"));
        Launcher launcher = new Launcher(os, reaper, Launcher.defaultHelper(), socketPath.resolveSibling("notify"));
        JobSpecResolver resolver = new JobSpecResolver(new NativeAccounts(), env);
        JobsDirectory jobsDirectory = new JobsDirectory(jobs, resolver, TrustedPath.of(os));
        ObjectMapper mapper = ProtocolJson.newMapper();
        Supervisor supervisor = Supervisor.start(launcher, reaper, os, log, Clock.systemUTC(), euid, limits);
        ControlServer server;
        RequestHandler handler = new RequestHandler(supervisor, resolver, jobsDirectory, mapper);
        try {
            server = new ControlServer(socketPath, os, log, supervisor, handler, mapper);
        } catch (java.io.IOException e) {
            log.error("cannot listen on " + socketPath + ": " + e.getMessage());
            supervisor.close();
            return EXIT_CANNOT_START;
        }
        log.info("blivetd " + Version.get() + " (pid " + ProcessHandle.current().pid() + ", uid " + euid + "), jobs from "
                + jobs + ", state in " + state);
        // A missing jobs directory does not stop blivetd: the package's default one may be made
        // after it starts, and clients' jobs need none. A typo in --jobs-dir must not pass unseen.
        String missing = jobsDirectory.missingWarning();
        if (missing != null) {
            log.warn(missing + (jobsDir != null ? " (--jobs-dir " + jobsDir + ")" : " (the default for uid " + euid + ")")
                    + "; blivetd starts without it");
        }
        Supplier<CompletableFuture<ReloadReport>> reload = () -> supervisor.applyJobsDirectory(
                jobsDirectory.scan()).whenComplete((report, error) -> {
                    if (error != null) {
                        log.error("reload: " + error.getMessage());
                        return;
                    }
                    log.info("jobs directory " + jobs + ": added " + report.added() + ", changed " + report.changed()
                            + ", removed " + report.removed());
                    String gone = jobsDirectory.missingWarning();
                    if (gone != null) {
                        log.warn(gone);
                    }
                    report.errors().forEach((file, why) -> log.warn("skipped " + file + ": " + why));
                });
        // The start path's code is loaded while the jobs directory loads, and compiled while
        // blivetd serves, so the first client's start is not the slowest (docs/benchmarks.md).
        CompletableFuture<Void> warm = new Warmup(handler, mapper, launcher::dryRun).inBackground(Warmup.ITERATIONS, log::debug);
        reload.get().join();
        warm.join();
        server.start();

        CountDownLatch stop = new CountDownLatch(1);
        SignalHandlers.on("HUP", reload::get);
        SignalHandlers.on("TERM", stop::countDown);
        SignalHandlers.on("INT", stop::countDown);
        serving.complete(null);
        stop.await();
        server.close();
        // Until blivetd can re-adopt jobs after a restart, it stops them rather than orphan them.
        log.info("stopping every job, then exiting");
        java.util.List<dev.blivet.daemon.supervisor.JobSnapshot> last = supervisor.stopAll().get();
        new StateFile(state).write(mapper, last, log);
        supervisor.close();
        launcher.close();
        reaper.close();
        return 0;
    }
}
