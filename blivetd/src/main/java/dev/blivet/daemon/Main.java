package dev.blivet.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.common.ExitCode;
import dev.blivet.common.Defaults;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import dev.blivet.common.SocketPaths;
import dev.blivet.common.Version;
import dev.blivet.common.protocol.ProtocolJson;
import dev.blivet.daemon.cgroup.CgroupControl;
import dev.blivet.daemon.cgroup.CgroupSetup;
import dev.blivet.daemon.cgroup.CgroupNames;
import dev.blivet.daemon.cgroup.JobCgroups;
import dev.blivet.daemon.cgroup.LeftoverSweep;
import dev.blivet.daemon.launch.Launcher;
import dev.blivet.daemon.launch.ProcessGroups;
import dev.blivet.daemon.supervisor.ProcessControl;
import java.util.concurrent.atomic.AtomicReference;
import dev.blivet.daemon.keeper.ExitSource;
import dev.blivet.daemon.keeper.ExitsDirectory;
import dev.blivet.daemon.keeper.KeeperExits;
import dev.blivet.daemon.keeper.KeeperLink;
import dev.blivet.daemon.server.InheritedSocket;
import dev.blivet.daemon.server.Reexec;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import dev.blivet.daemon.ledger.AdoptionWatcher;
import dev.blivet.daemon.ledger.CrashPoints;
import dev.blivet.daemon.ledger.JobLedger;
import dev.blivet.daemon.ledger.LedgerOs;
import dev.blivet.daemon.ledger.Leftovers;
import dev.blivet.daemon.ledger.Readoption;
import dev.blivet.daemon.ledger.Recorder;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.launch.Reaper;
import dev.blivet.daemon.usage.CgroupLimits;
import dev.blivet.daemon.launch.TrustedPath;
import dev.blivet.daemon.server.ControlServer;
import dev.blivet.daemon.server.RequestHandler;
import dev.blivet.daemon.server.StartRehearsal;
import dev.blivet.daemon.server.Warmup;
import dev.blivet.daemon.supervisor.JobsDirectory;
import dev.blivet.daemon.supervisor.Limits;
import dev.blivet.daemon.supervisor.ReloadReport;
import dev.blivet.daemon.supervisor.Supervisor;
import dev.blivet.daemon.systemd.LoopHangHook;
import dev.blivet.daemon.systemd.ServiceEnvironment;
import dev.blivet.daemon.systemd.Systemd;
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
                "Signals: SIGHUP reloads the jobs directory; SIGTERM and SIGINT stop every job (every process of it), then blivetd."})
public final class Main implements Callable<Integer> {
    /** Exit code when blivetd cannot start (socket taken, directory unusable). */
    static final int EXIT_CANNOT_START = ExitCode.UNAVAILABLE.code();
    /** Exit code when a thread died of an unforeseen error. */
    static final int EXIT_INTERNAL = ExitCode.SOFTWARE.code();
    /** Exit code for options that parse but make no sense (a limit of 0): picocli's usage error. */
    static final int EXIT_USAGE = 2;
    /**
     * How long after a re-adopted process ended its keeper's exit record may take to appear: the
     * keeper reaps asynchronously, within milliseconds; past this the status is unknown.
     */
    private static final java.time.Duration KEEPER_RECORD_WAIT = java.time.Duration.ofSeconds(2);
    /** The keeper answers at once; this only bounds a wait on a keeper that hangs. */
    private static final java.time.Duration KEEPER_REGISTRATION = java.time.Duration.ofSeconds(10);

    /**
     * Completed once blivetd answers on its socket and has its signal handlers: from then on a
     * SIGTERM stops it cleanly. CdsTraining runs blivetd inside its own JVM and must not talk to
     * it or signal it before then.
     */
    final CompletableFuture<Void> serving = new CompletableFuture<>();

    /**
     * What the supervisor tells each step of a job's custody, given the ledger: the ledger
     * itself. A seam for bench/ledger/ alone, which measures a start with and without the ledger
     * in one tree (docs/benchmarks.md, "The ledger"); no option or variable reaches it.
     */
    private final java.util.function.Function<JobLedger, Recorder> recorder;

    public Main() {
        this(ledger -> ledger);
    }

    Main(java.util.function.Function<JobLedger, Recorder> recorder) {
        this.recorder = recorder;
    }

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

    @Option(names = "--cgroups", paramLabel = "MODE", defaultValue = "auto",
            description = "auto: each job in its own cgroup v2 where blivetd may write one (delegated by systemd, or as root),"
                    + " else process groups; off: process groups only, which a job's setsid() escapes"
                    + " (default ${DEFAULT-VALUE}).")
    String cgroups;

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
        Map<String, String> env = System.getenv();
        Log log = Log.toStderr(Log.parseLevel(logLevel), env);
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
        int euid = os.posix().geteuid();
        Path socketPath = SocketPaths.resolve(socket, env, euid);
        Path jobs = jobsDir != null ? jobsDir : DaemonPaths.jobsDir(euid, env);
        Path state = stateDir != null ? stateDir : DaemonPaths.stateDir(euid, env);
        // The keeper and the socket it hands over (docs/architecture.md, "Custody").
        Optional<KeeperLink> keeper = KeeperLink.fromEnvironment(os, env, log);
        OptionalInt inherited;
        try {
            inherited = InheritedSocket.take(os, env, log);
        } catch (java.io.IOException e) {
            log.error("cannot use the socket handed over: " + e.getMessage());
            return EXIT_CANNOT_START;
        }

        try {
            RuntimeDirectory.prepare(socketPath.getParent(), euid);
        } catch (java.io.IOException e) {
            log.error("cannot use the socket directory: " + e.getMessage());
            return EXIT_CANNOT_START;
        }
        JobLedger ledger;
        LedgerOs ledgerOs = new LedgerOs(os);
        CrashPoints crash = CrashPoints.fromEnv(env);
        try {
            ledger = JobLedger.open(ledgerOs, state, socketPath.getParent(), crash, log);
        } catch (java.io.IOException e) {
            log.error("cannot use the ledger: " + e.getMessage());
            return EXIT_CANNOT_START;
        }
        int exitsFd = -1;
        ExitSource exits = ExitSource.none(); // re-adoption's source of how orphaned jobs ended
        if (keeper.isPresent()) {
            Path exitsDir = ExitsDirectory.of(socketPath);
            try {
                exitsFd = ExitsDirectory.open(os, exitsDir, euid);
            } catch (java.io.IOException e) {
                log.error("cannot keep the keeper's exit records: " + e.getMessage());
                return EXIT_CANNOT_START;
            }
            exits = new KeeperExits(exitsDir, keeper.get()::onExits, log);
            int pending = exits.pending().size();
            if (pending > 0) {
                log.info(pending + " exit records from the keeper in " + exitsDir);
            }
        }
        CgroupSetup.Choice cgroupChoice;
        try {
            cgroupChoice = CgroupSetup.Choice.valueOf(cgroups.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            log.error("--cgroups must be auto or off, not " + cgroups);
            return EXIT_USAGE;
        }
        // Once, before any job: every job of this blivetd is contained the same way.
        CgroupSetup.Result containment = CgroupSetup.detect(os.posix(), log, cgroupChoice, socketPath, euid, keeper.isPresent());
        Reaper.becomeSubreaper(os);
        AtomicReference<ProcessGroups> reaped = new AtomicReference<>();
        Reaper reaper = new Reaper(os, (pid, exit, claimed) -> {
            if (log.enabled(Log.Level.DEBUG)) { // both sides of the claim race alike (Reaper)
                log.debug("reaped pid " + pid + " (" + exit.describe() + (claimed ? ")" : ", not claimed yet)"));
            }
            ProcessGroups groups = reaped.get();
            if (groups == null) {
                return;
            }
            try {
                groups.childReaped(); // without cgroups, a reap is how a job's group is seen to empty
            } catch (RuntimeException | OutOfMemoryError e) {
                // The reaper's thread must go on reaping; the next reap re-checks the groups again.
                log.warn("cannot re-check the process groups waited for after a reap: " + e);
            }
        });
        ProcessGroups groups = new ProcessGroups(os, reaper);
        reaped.set(groups);
        JobCgroups jobCgroups = containment.cgroups();
        ProcessControl processes = jobCgroups != null ? new CgroupControl(jobCgroups, groups) : ProcessControl.of(groups);
        dev.blivet.daemon.usage.JobCgroups cgroupDirs = jobCgroups == null ? dev.blivet.daemon.usage.JobCgroups.NONE
                : name -> jobCgroups.base().resolve(CgroupNames.job(name));
        Launcher launcher = new Launcher(os, reaper, Launcher.defaultHelper(), socketPath.resolveSibling("notify"),
                jobCgroups == null ? null : (name, jobLimits) -> {
                    if (!jobLimits.isEmpty()) {
                        jobCgroups.enableControllers(CgroupLimits.controllersOf(jobLimits));
                        CgroupLimits.apply(jobCgroups.job(name).dir(), jobLimits);
                    }
                    return jobCgroups.openForSpawn(name);
                }, cgroupDirs);
        // A job with inherit_env gets blivetd's environment without what systemd and the keeper meant for
        // blivetd. A limit blivetd cannot apply through the jobs' cgroups is refused, saying why.
        JobSpecResolver resolver = new JobSpecResolver(new NativeAccounts(), ServiceEnvironment.forJobs(env))
                .withLimitSupport(jobCgroups == null ? CgroupLimits.uncontained()
                        : CgroupLimits.detect(jobCgroups.base(), Path.of("/proc/self/cgroup")));
        JobsDirectory jobsDirectory = new JobsDirectory(jobs, resolver, TrustedPath.of(os));
        ObjectMapper mapper = ProtocolJson.newMapper();
        Supervisor supervisor = Supervisor.start(launcher, processes, os, log, Clock.systemUTC(), euid, limits,
                recorder.apply(ledger));
        CountDownLatch stop = new CountDownLatch(1);
        AtomicBoolean reexecuting = new AtomicBoolean();
        Reexec reexec = keeper.<Reexec>map(link -> new Reexec() {
            @Override
            public String refusal() {
                return link.registered() ? null : "blivetd is still starting (its keeper does not hold the socket yet): try again";
            }

            @Override
            public void begin() {
                reexecuting.set(true);
                stop.countDown();
            }
        }).orElse(Reexec.WITHOUT_KEEPER);
        ControlServer server;
        RequestHandler handler = new RequestHandler(supervisor, resolver, jobsDirectory, mapper, cgroupDirs, reexec);
        try {
            server = new ControlServer(socketPath, inherited, os, log, supervisor, handler, mapper);
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
        // The start path's code is loaded while the ledger and the jobs directory load, and
        // compiled while blivetd serves, so the first client's start is not the slowest (docs/benchmarks.md).
        // Real starts, in a sandbox of their own, sharing what real starts use (docs/architecture.md,
        // "The start rehearsal at boot"). Its ledger passes no crash point: a test's would halt the boot.
        Log rehearsalLog = log.demoted();
        StartRehearsal rehearsal = new StartRehearsal(socketPath.getParent(), euid, os.posix().getegid(),
                (rehearsalState, rehearsalRuntime) -> JobLedger.open(ledgerOs, rehearsalState, rehearsalRuntime,
                        CrashPoints.none(), rehearsalLog),
                rehearsalLedger -> Supervisor.start(launcher, processes, os, rehearsalLog, Clock.systemUTC(), euid, limits,
                        recorder.apply(rehearsalLedger)),
                rehearsalSupervisor -> new RequestHandler(rehearsalSupervisor, resolver.forRehearsal(), jobsDirectory, mapper,
                        cgroupDirs, Reexec.WITHOUT_KEEPER),
                StartRehearsal.Cgroup.of(jobCgroups, log), mapper, crash, log);
        CompletableFuture<Void> warm = new Warmup(handler, mapper, launcher::dryRun, ledger::rehearse, rehearsal::run)
                .inBackground(Warmup::passesForThisJvm, serving, log::debug);
        // Every job of the ledger is decided (re-adopted, ended, or stopped) before the jobs
        // directory is applied and before anyone is served (docs/architecture.md, "Custody: the ledger").
        AdoptionWatcher watcher = new AdoptionWatcher(ledgerOs, exits, log, KEEPER_RECORD_WAIT);
        supervisor.restore(new LedgerRestore(ledger, resolver, log, euid).read(new Readoption(watcher,
                jobCgroups == null ? Leftovers.unknowable() : name -> jobCgroups.populated(name) ? Leftovers.Verdict.PRESENT
                        : Leftovers.Verdict.NONE, ledger.bootId()))).join();
        reload.get().join();
        warm.join();

        SignalHandlers.on("HUP", reload::get);
        AtomicBoolean stopAsked = new AtomicBoolean(); // a stop outranks a reexec asked at the same moment
        SignalHandlers.on("TERM", () -> {
            stopAsked.set(true);
            stop.countDown();
        });
        SignalHandlers.on("INT", () -> {
            stopAsked.set(true);
            stop.countDown();
        });
        if (keeper.isPresent()) {
            // From now on the keeper holds the socket and restarts a JVM that dies. After the
            // signal handlers: the keeper forwards a stop it held back once we register.
            try {
                keeper.get().register(server.listenFd(), exitsFd, KEEPER_REGISTRATION);
            } catch (java.io.IOException e) {
                log.error(e.getMessage() + ": reexec is refused, and the death of this JVM ends blivetd");
            }
            os.close(exitsFd);
        }
        // Only now: whoever this JVM answers may rely on its keeper (a reexec right after a reexec).
        server.start();
        Systemd systemd = Systemd.start(env, keeper, log, supervisor);
        systemd.ready();
        supervisor.observeReloads(systemd); // RELOADING=1, then READY=1
        LoopHangHook.install(supervisor, log);
        serving.complete(null);
        stop.await();
        if (reexecuting.get() && !stopAsked.get()) {
            // The jobs stay as they are: their processes become the keeper's, the next JVM
            // re-adopts them. Clients that connect meanwhile wait in the socket's backlog. To
            // systemd this is a reload (RELOADING=1; the next JVM says READY=1), never a stop.
            systemd.before();
            server.stopAccepting();
            log.info("re-exec: this JVM exits, every job keeps running; the keeper starts the next JVM");
            try {
                keeper.orElseThrow().reexec();
            } catch (java.io.IOException e) {
                log.error(e.getMessage() + ": the keeper restarts blivetd as after a crash");
            }
            Runtime.getRuntime().halt(0);
        }
        if (keeper.isPresent()) {
            try {
                keeper.get().stopping(); // the keeper exits with us rather than start another JVM
            } catch (java.io.IOException e) {
                log.warn(e.getMessage());
            }
        }
        systemd.stopping();
        server.close();
        // A clean stop stops every job, each with its own stop_signal and stop_timeout (systemctl
        // stop blivetd); the ledger keeps their specs, so clients' jobs are listed again (and the
        // autostart ones started) by the next blivetd. Only a crash leaves jobs to re-adopt.
        log.info("stopping every job, then exiting");
        supervisor.stopAll().get();
        if (jobCgroups != null) {
            new LeftoverSweep(jobCgroups, log).run(); // jobs removed while their processes lived on (kill_mode "main")
        }
        supervisor.close();
        watcher.close();
        ledger.close();
        launcher.close();
        reaper.close();
        CgroupSetup.leave(containment, log);
        systemd.close();
        return 0;
    }
}
