package dev.blivet.common;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates a {@link JobSpec} and resolves it into a {@link ResolvedJob}: blivet's rules (absolute
 * paths, chdir is a directory, parents exist and are writable, pidfile and lockfile are not the
 * output files, env keys valid, no NUL bytes, user/group only as root) plus unknown users and
 * groups (67) and a missing or non-executable program (66). The daemon and {@code blivetctl
 * validate} run exactly this, so an offline check means what a start would say.
 *
 * <p>Every problem is collected, so an author fixes a spec in one pass. The rules are pure
 * (names, absolute paths, umask, env keys, rlimits, readiness, durations, restart policy); what
 * they need to know of the system comes through two interfaces, {@link Accounts} for users and
 * groups and {@link SystemProbe} for files, so tests run them with fakes and as any user. For a
 * non-root client of a root blivetd only the rules that need no look at the file system apply:
 * the helper, running as that client, reports missing or unusable paths and programs at the
 * start.
 */
public final class JobSpecResolver {
    private static final Pattern UMASK = Pattern.compile("0?[0-7]{1,3}");
    private static final Pattern BYTES = Pattern.compile("([0-9]+)([KMGTkmgt])?");
    private static final Pattern PERCENT = Pattern.compile("([0-9]+)%");

    private final Accounts accounts;
    private final SystemProbe files;
    private final Map<String, String> daemonEnv;
    private final LimitSupport limitSupport;
    /** Only blivetd's start rehearsal takes {@link ReservedName#REHEARSAL} ({@link #forRehearsal}). */
    private final boolean reservedNameAllowed;

    /**
     * @param daemonEnv blivetd's own environment, passed on only to jobs with inherit_env
     */
    public JobSpecResolver(Accounts accounts, Map<String, String> daemonEnv) {
        this(accounts, new FileSystemProbe(), daemonEnv);
    }

    /**
     * @param accounts the user and group databases
     * @param files the file system, as blivetd sees it
     * @param daemonEnv blivetd's own environment, passed on only to jobs with inherit_env
     */
    public JobSpecResolver(Accounts accounts, SystemProbe files, Map<String, String> daemonEnv) {
        this(accounts, files, daemonEnv, LimitSupport.UNKNOWN);
    }

    private JobSpecResolver(Accounts accounts, SystemProbe files, Map<String, String> daemonEnv,
            LimitSupport limitSupport, boolean reservedNameAllowed) {
        this.accounts = accounts;
        this.files = files;
        this.daemonEnv = Map.copyOf(daemonEnv);
        this.limitSupport = limitSupport;
        this.reservedNameAllowed = reservedNameAllowed;
    }

    private JobSpecResolver(Accounts accounts, SystemProbe files, Map<String, String> daemonEnv,
            LimitSupport limitSupport) {
        this(accounts, files, daemonEnv, limitSupport, false);
    }

    /** This resolver, refusing every cgroup limit {@code support} says cannot be applied (blivetd's own). */
    public JobSpecResolver withLimitSupport(LimitSupport support) {
        return new JobSpecResolver(accounts, files, daemonEnv, support, reservedNameAllowed);
    }

    /**
     * This resolver, taking {@link ReservedName#REHEARSAL} too: for blivetd's start rehearsal at
     * boot alone, whose requests never come from a socket or a file.
     */
    public JobSpecResolver forRehearsal() {
        return new JobSpecResolver(accounts, files, daemonEnv, limitSupport, true);
    }

    /** Whether this resolver takes {@link ReservedName#REHEARSAL}: only {@link #forRehearsal}'s does. */
    public boolean allowsReservedName() {
        return reservedNameAllowed;
    }

    /**
     * The same resolver over {@code wrap(accounts)}: blivetd gives each connection its own view of
     * the user database, looked up once per connection rather than once per start.
     */
    public JobSpecResolver withAccounts(java.util.function.UnaryOperator<Accounts> wrap) {
        return new JobSpecResolver(wrap.apply(accounts), files, daemonEnv, limitSupport, reservedNameAllowed);
    }

    /** blivetd's own uid: the user a blivetd of one user answers to, besides root. */
    public int daemonUid() {
        return accounts.effectiveUid();
    }

    /** Resolves a spec that blivetd's own user asked for (the jobs directory, {@code blivetctl validate}). */
    public ResolvedJob resolve(JobSpec spec) throws SpecException {
        return resolve(spec, accounts.effectiveUid());
    }

    /**
     * Resolves a spec on behalf of a client: a non-root client may run jobs only as itself (its
     * own user when the spec names none), only in groups it belongs to, without chroot, and the
     * helper opens the job's files with the client's identity.
     */
    public ResolvedJob resolve(JobSpec spec, int requesterUid) throws SpecException {
        return new Resolution(spec, requesterUid, false).run();
    }

    /**
     * Whether a resolution for this client looks at the file system: not for a non-root client
     * of a root blivetd, whose paths and program the helper checks as the client at the start.
     */
    public boolean probesFor(int requesterUid) {
        return !(accounts.effectiveUid() == 0 && requesterUid != 0);
    }

    /**
     * Only the problems the file system shows, seen with this process's own credentials: what
     * {@code blivetctl validate} adds, run as the client, to a root blivetd's answer for a non-root
     * client (which probes nothing: the helper looks at the paths as the client, at the start).
     * The rules that need no probe are blivetd's to apply, and are left out here.
     */
    public List<SpecProblem> probe(JobSpec spec) {
        try {
            new Resolution(spec, accounts.effectiveUid(), true).run();
            return List.of();
        } catch (SpecException e) {
            return e.problems();
        }
    }

    /** One resolution's working state: the problems found so far. */
    private final class Resolution {
        private final JobSpec spec;
        private final int requester;
        private final int self = accounts.effectiveUid();
        private final List<SpecProblem> problems = new ArrayList<>();
        /** Keep only what the probes find ({@link #probe}). */
        private final boolean probesOnly;
        /** What each path was found to be: the file system is asked once per path and question. */
        private final Map<Path, PathFacts> looked = new HashMap<>();
        private final Map<Path, PathFacts> followed = new HashMap<>();
        private final Map<Path, Optional<String>> writable = new HashMap<>();

        Resolution(JobSpec spec, int requester, boolean probesOnly) {
            this.spec = spec;
            this.requester = requester;
            this.probesOnly = probesOnly;
        }

        /** A non-root client of a root blivetd: everything it asks for is done with its identity. */
        private boolean unprivilegedClient() {
            return !probesFor(requester);
        }

        /**
         * Whether this resolution may look at the file system. Not for a non-root client of a root
         * blivetd: root's answers (exists, is a directory, is writable, is executable) would tell
         * the client about places it cannot see. Its paths and program are checked by the helper,
         * which does that work as the client, and fails the start with the same words a probe
         * would have given, about what the client itself may know.
         */
        private boolean mayProbe() {
            return probesOnly || !unprivilegedClient();
        }

        ResolvedJob run() throws SpecException {
            checkName();
            List<String> argv = checkCommand();
            String chroot = absolutePath("chroot", spec.chroot());
            String chdir = Objects.requireNonNullElse(absolutePath("chdir", spec.chdir()), Defaults.CHDIR);
            checkDirectory("chroot", chroot, null);
            checkDirectory("chdir", chdir, chroot);
            String pidfile = outputPath("pidfile", spec.pidfile());
            String lockfile = outputPath("lockfile", spec.lockfile());
            String stdout = outputPath("stdout", spec.stdout());
            String stderr = outputPath("stderr", spec.stderr());
            for (String manager : new String[] {"pidfile", "lockfile"}) {
                String path = manager.equals("pidfile") ? pidfile : lockfile;
                checkNotSameFile(manager, path, "stdout", stdout);
                checkNotSameFile(manager, path, "stderr", stderr);
            }
            int umask = parseUmask();
            Account account = resolveUser();
            Identity identity = resolveIdentity(account);
            int owner = identity != null ? identity.uid() : unprivilegedClient() ? requester : self;
            for (String[] output : new String[][] {{"pidfile", pidfile}, {"lockfile", lockfile}, {"stdout", stdout},
                    {"stderr", stderr}}) {
                checkExisting(output[0], output[1], owner);
            }
            Map<String, String> env = composeEnv(account);
            String program = argv.isEmpty() ? null : findProgram(argv.get(0), env.get("PATH"), chroot, identity);
            List<RLimit> rlimits = parseRlimits();
            Readiness readiness = Objects.requireNonNullElse(spec.readiness(), Readiness.EXEC);
            checkForking(readiness, pidfile, lockfile);
            ResourceLimits limits = parseLimits();
            int notifyFd = checkNotifyFd(readiness);
            if (notifyFd >= 0) {
                env.put(Defaults.NOTIFY_FD_ENV, Integer.toString(notifyFd));
            }
            Duration readyTimeout = seconds("ready_timeout", spec.readyTimeout(), Defaults.READY_TIMEOUT, false);
            Duration startGrace = seconds("start_grace", spec.startGrace(), Defaults.START_GRACE, true);
            Supervision supervision = parseSupervision();
            if (chroot != null && requester != 0) {
                problem(ExitCode.NO_PERMISSION, "'chroot': only root may use chroot (you are uid " + requester + ")");
            }

            if (!problems.isEmpty()) {
                throw new SpecException(problems);
            }
            List<String> envList = new ArrayList<>();
            env.forEach((k, v) -> envList.add(k + "=" + v));
            return new ResolvedJob(spec.name(), program, argv, envList, umask, chroot, chdir, stdout, stderr,
                    Boolean.TRUE.equals(spec.append()), lockfile, pidfile, identity, rlimits, readiness, notifyFd,
                    readyTimeout, startGrace, unprivilegedClient(), supervision, limits);
        }

        /**
         * A forking job's pidfile is how blivetd learns its daemon's pid; the program writes it and
         * blivetd only reads it, so it cannot also be the lockfile blivetd holds.
         */
        private void checkForking(Readiness readiness, String pidfile, String lockfile) {
            if (readiness != Readiness.FORKING) {
                return;
            }
            if (spec.pidfile() == null) {
                problem(ExitCode.USAGE, "'pidfile' is required with \"readiness\": \"forking\": the program writes"
                        + " its daemon's pid there and blivetd reads it");
            } else if (pidfile != null && pidfile.equals(lockfile)) {
                problem(ExitCode.USAGE, "'pidfile' and 'lockfile' are the same file: with \"readiness\": \"forking\""
                        + " the program writes the pidfile and blivetd only reads it");
            }
        }

        private ResourceLimits parseLimits() {
            Long memory = spec.memoryMax() == null ? null : parseBytes(spec.memoryMax());
            Integer tasks = bounded("tasks_max", spec.tasksMax(), 1, ResourceLimits.MAX_TASKS);
            Integer cpu = spec.cpuMax() == null ? null : parsePercent(spec.cpuMax());
            Integer weight = bounded("cpu_weight", spec.cpuWeight(), ResourceLimits.MIN_CPU_WEIGHT,
                    ResourceLimits.MAX_CPU_WEIGHT);
            ResourceLimits limits = new ResourceLimits(memory, tasks, cpu, weight);
            for (ResourceLimits.Setting setting : limits.files()) {
                limitSupport.whyNot(setting.key(), setting.controller())
                        .ifPresent(why -> problem(ExitCode.USAGE, "'" + setting.key() + "': " + why));
            }
            return limits;
        }

        private Integer bounded(String field, Integer value, int min, int max) {
            if (value != null && (value < min || value > max)) {
                problem(ExitCode.USAGE, "'" + field + "' must be from " + min + " to " + max + ": " + value);
                return null;
            }
            return value;
        }

        /** "536870912", "512M": bytes, with a K, M, G or T suffix in powers of 1024. */
        private Long parseBytes(String text) {
            java.util.regex.Matcher m = BYTES.matcher(text);
            if (m.matches() && m.group(1).length() <= 15) {
                int shift = m.group(2) == null ? 0 : 10 * ("KMGT".indexOf(m.group(2).toUpperCase(java.util.Locale.ROOT)) + 1);
                long bytes = Long.parseLong(m.group(1)) << shift;
                if (bytes > 0 && bytes >> shift == Long.parseLong(m.group(1))) {
                    return bytes;
                }
            }
            problem(ExitCode.USAGE, "'memory_max' must be a number of bytes above 0, with an optional K, M, G or T"
                    + " suffix (powers of 1024), such as \"512M\": " + quote(text));
            return null;
        }

        /** "50%": half of one CPU; "200%": two CPUs. */
        private Integer parsePercent(String text) {
            java.util.regex.Matcher m = PERCENT.matcher(text);
            if (m.matches() && m.group(1).length() <= 6) {
                int percent = Integer.parseInt(m.group(1));
                if (percent >= 1 && percent <= ResourceLimits.MAX_CPU_PERCENT) {
                    return percent;
                }
            }
            problem(ExitCode.USAGE, "'cpu_max' must be a percentage of one CPU from 1% to "
                    + ResourceLimits.MAX_CPU_PERCENT + "%, such as \"50%\" (half a CPU) or \"200%\" (two): "
                    + quote(text));
            return null;
        }

        private void problem(ExitCode code, String message) {
            if (!probesOnly) {
                problems.add(new SpecProblem(code, message));
            }
        }

        /** A problem a look at the file system found. */
        private void probed(ExitCode code, String message) {
            problems.add(new SpecProblem(code, message));
        }

        private void checkName() {
            if (spec.name() == null) {
                problem(ExitCode.USAGE, "'name' is required");
            } else if (!JobSpec.NAME.matcher(spec.name()).matches()) {
                problem(ExitCode.USAGE, "'name' must be 1 to 64 of A-Z a-z 0-9 _ . @ - and not start with"
                        + " a punctuation mark: " + quote(spec.name()));
            } else if (ReservedName.is(spec.name()) && !reservedNameAllowed) {
                problem(ExitCode.USAGE, ReservedName.refusal(spec.name()));
            }
        }

        private List<String> checkCommand() {
            List<String> command = spec.command();
            if (command == null || command.isEmpty()) {
                problem(ExitCode.USAGE, "'command' is required: an array with the program and its arguments");
                return List.of();
            }
            for (int i = 0; i < command.size(); i++) {
                if (command.get(i) == null) {
                    problem(ExitCode.USAGE, "'command[" + i + "]' is null");
                    return List.of();
                }
                checkNoNul("command[" + i + "]", command.get(i));
            }
            if (command.get(0).isEmpty()) {
                problem(ExitCode.USAGE, "'command[0]' is empty: it names the program");
            }
            return command;
        }

        private boolean checkNoNul(String field, String value) {
            if (value.indexOf('\0') >= 0) {
                problem(ExitCode.USAGE, "'" + field + "' contains a NUL byte");
                return false;
            }
            return true;
        }

        /** The normalized absolute path, or null when absent or invalid. */
        private String absolutePath(String field, String value) {
            if (value == null || !checkNoNul(field, value)) {
                return null;
            }
            if (!value.startsWith("/")) {
                problem(ExitCode.USAGE, "'" + field + "' must be an absolute path: " + quote(value));
                return null;
            }
            return Path.of(value).normalize().toString();
        }

        private void checkDirectory(String field, String path, String chroot) {
            if (path == null || !mayProbe()) {
                return;
            }
            Path where = inside(chroot, path);
            PathFacts facts = follow(where);
            if (!facts.exists()) {
                probed(ExitCode.OS_ERROR, "'" + field + "' does not exist: " + where);
            } else if (!facts.isDirectory()) {
                probed(ExitCode.OS_ERROR, "'" + field + "' is not a directory: " + where);
            }
        }

        /** A file blivetd creates before the job starts: pidfile, lockfile, stdout, stderr. */
        private String outputPath(String field, String value) {
            String path = absolutePath(field, value);
            if (path == null) {
                return null;
            }
            Path file = Path.of(path);
            Path parent = file.getParent();
            if (parent == null) {
                problem(ExitCode.USAGE, "'" + field + "' names the root directory");
                return null;
            }
            if (!mayProbe()) {
                return path;
            }
            PathFacts facts = look(file);
            if (facts.isDirectory()) {
                probed(ExitCode.CANT_CREATE, "'" + field + "' is a directory: " + file);
            } else if (facts.isSymbolicLink()) {
                probed(ExitCode.CANT_CREATE, "'" + field + "' is a symbolic link, which blivetd never follows: " + file);
            } else if (!follow(parent).isDirectory()) {
                probed(ExitCode.CANT_CREATE, "'" + field + "': directory " + parent + " does not exist");
            } else if (facts.exists()) {
                return path; // checked once the job's user is known: checkExisting
            } else {
                whyNotWritable(parent).ifPresent(why -> probed(ExitCode.CANT_CREATE, "'" + field
                        + "': directory " + parent + (why.equals(SystemProbe.PERMISSION_DENIED) ? " is not writable"
                        : ": " + why)));
            }
            return path;
        }

        /** An existing file the helper would refuse to use for the job whose user is {@code owner}. */
        private void checkExisting(String field, String path, int owner) {
            if (path == null || !mayProbe()) {
                return;
            }
            Path file = Path.of(path);
            PathFacts facts = look(file);
            if (!facts.exists() || facts.isSymbolicLink() || facts.isDirectory()) {
                return; // to be created, or already reported
            }
            // The helper opens an existing file as it is (it never replaces it): what counts is
            // the file itself, its owner and its own permissions, not the directory's.
            Optional<String> refused = whyNotJobsFile(facts, owner);
            if (refused.isPresent()) {
                probed(ExitCode.CANT_CREATE, "'" + field + "': " + file + " " + refused.get());
                return;
            }
            whyNotWritable(file).ifPresent(why -> probed(ExitCode.CANT_CREATE, "'" + field + "': " + file
                    + (why.equals(SystemProbe.PERMISSION_DENIED) ? " is not writable" : ": " + why)));
        }

        /**
         * Two different paths that name one file: one name in one directory reached by two paths
         * (symbolic links or a bind mount on the way), or two names of one existing file (hard
         * links, or a symbolic link, which is refused on its own as well).
         */
        private boolean isSameFile(Path a, Path b) {
            return a.getFileName().equals(b.getFileName()) && follow(a.getParent()).isSameFileAs(follow(b.getParent()))
                    || follow(a).isSameFileAs(follow(b));
        }

        private PathFacts look(Path path) {
            return looked.computeIfAbsent(path, files::look);
        }

        /**
         * Through a symbolic link: lstat first, and stat only for a link, since for anything else
         * stat would say what lstat said. So the common path is one native call, which blivetd's
         * warm-up at boot compiles for every kind of path (docs/architecture.md).
         */
        private PathFacts follow(Path path) {
            PathFacts itself = look(path);
            return itself.isSymbolicLink() ? followed.computeIfAbsent(path, files::follow) : itself;
        }

        private Optional<String> whyNotWritable(Path path) {
            return writable.computeIfAbsent(path, files::whyNotWritable);
        }

        private void checkNotSameFile(String field, String path, String otherField, String other) {
            if (path == null || other == null) {
                return;
            }
            if (path.equals(other)) {
                problem(ExitCode.USAGE, "'" + field + "' and '" + otherField + "' are the same file: " + path);
            } else if (mayProbe() && isSameFile(Path.of(path), Path.of(other))) {
                probed(ExitCode.USAGE, "'" + field + "' and '" + otherField + "' are the same file: " + path);
            }
        }

        private int parseUmask() {
            if (spec.umask() == null) {
                return Defaults.UMASK;
            }
            if (!UMASK.matcher(spec.umask()).matches()) {
                problem(ExitCode.USAGE, "'umask' must be an octal string such as \"022\": " + quote(spec.umask()));
                return Defaults.UMASK;
            }
            return Integer.parseInt(spec.umask(), 8);
        }

        private Account resolveUser() {
            if (spec.user() == null) {
                if (!unprivilegedClient()) {
                    return null;
                }
                Optional<Account> client = accounts.user(requester);
                if (client.isEmpty()) {
                    problem(ExitCode.NO_USER, "your uid " + requester + " has no passwd entry to run a job as");
                }
                return client.orElse(null);
            }
            if (!checkNoNul("user", spec.user())) {
                return null;
            }
            Optional<Account> account = accounts.user(spec.user());
            if (account.isEmpty()) {
                problem(ExitCode.NO_USER, "unknown user " + quote(spec.user()));
                return null;
            }
            if (requester != 0 && account.get().uid() != requester) {
                problem(ExitCode.NO_PERMISSION, "user " + quote(spec.user()) + ": uid " + requester + " may start jobs"
                        + " only as itself");
            } else if (self != 0 && account.get().uid() != self) {
                problem(ExitCode.NO_PERMISSION, "user " + quote(spec.user()) + ": only root can run a job as another"
                        + " user (blivetd runs as uid " + self + ")");
            }
            return account.get();
        }

        /** Null when the job keeps blivetd's identity. */
        private Identity resolveIdentity(Account account) {
            Integer gid = null;
            if (spec.group() != null && checkNoNul("group", spec.group())) {
                Optional<Integer> group = accounts.group(spec.group());
                if (group.isEmpty()) {
                    problem(ExitCode.NO_USER, "unknown group " + quote(spec.group()));
                    return null;
                }
                gid = group.get();
                int asker = requester != 0 ? requester : self;
                if (asker != 0 && !isMember(asker, gid)) {
                    problem(ExitCode.NO_PERMISSION, "group " + quote(spec.group()) + ": uid " + asker
                            + " is not a member, and only root can run a job in another group");
                }
            }
            if (self != 0 || (account == null && gid == null)) {
                return null; // a non-root blivetd cannot change identity; nor does a job that asks for none
            }
            if (account == null) {
                // A group alone: keep the uid, take only that group (no inherited supplementary ones).
                return new Identity(self, gid, new int[] {gid});
            }
            int primary = gid != null ? gid : account.gid();
            return new Identity(account.uid(), primary, accounts.groupsOf(account, primary));
        }

        private boolean isMember(int uid, int gid) {
            Account who = accounts.user(uid).orElse(null);
            return who != null && (who.gid() == gid || contains(accounts.groupsOf(who, who.gid()), gid));
        }

        private Map<String, String> composeEnv(Account account) {
            Map<String, String> env = new LinkedHashMap<>();
            if (Boolean.TRUE.equals(spec.inheritEnv()) && requester != self && requester != 0) {
                // blivetd's environment may hold service secrets only root could read in /proc.
                problem(ExitCode.NO_PERMISSION, "'inherit_env': only root or blivetd's own user may pass blivetd's"
                        + " environment to a job (you are uid " + requester + ")");
            } else if (Boolean.TRUE.equals(spec.inheritEnv())) {
                env.putAll(daemonEnv);
                env.remove(Defaults.NOTIFY_SOCKET_ENV);
            }
            Account who = account != null ? account : accounts.user(self).orElse(null);
            if (who != null) {
                env.put("USER", who.name());
                env.put("LOGNAME", who.name());
                env.put("HOME", who.home());
                env.put("SHELL", who.shell());
            }
            env.putIfAbsent("PATH", Defaults.PATH);
            if (spec.env() != null) {
                spec.env().forEach((key, value) -> {
                    if (key.isEmpty() || key.indexOf('=') >= 0) {
                        problem(ExitCode.USAGE, "'env' key " + quote(key) + " must be non-empty and contain no '='");
                    } else if (value == null) {
                        problem(ExitCode.USAGE, "'env." + key + "' is null: give a string");
                    } else if (key.equals(Defaults.NOTIFY_SOCKET_ENV) && spec.readiness() == Readiness.SD_NOTIFY) {
                        problem(ExitCode.USAGE, "'env.NOTIFY_SOCKET' is set by blivetd for an sd-notify job");
                    } else if (checkNoNul("env key " + quote(key), key) && checkNoNul("env." + key, value)) {
                        env.put(key, value);
                    }
                });
            }
            return env;
        }

        private String findProgram(String program, String path, String chroot, Identity identity) {
            if (program.isEmpty() || program.indexOf('\0') >= 0) {
                return null; // already reported
            }
            List<String> candidates = new ArrayList<>();
            if (program.contains("/")) {
                if (!program.startsWith("/")) {
                    problem(ExitCode.USAGE, "'command[0]' must be an absolute path or a bare name looked up in PATH: "
                            + quote(program));
                    return null;
                }
                candidates.add(Path.of(program).normalize().toString());
            } else if (mayProbe()) {
                for (String dir : path.split(":")) {
                    if (dir.startsWith("/")) {
                        candidates.add(Path.of(dir, program).normalize().toString());
                    }
                }
            }
            if (!mayProbe()) {
                // As given: an absolute path, or a bare name the helper looks up in PATH as the client.
                return candidates.isEmpty() ? program : candidates.get(0);
            }
            String firstNotExecutable = null;
            for (String candidate : candidates) {
                Path file = inside(chroot, candidate);
                PathFacts facts = follow(file);
                if (facts.isRegularFile()) {
                    boolean executable = identity == null ? files.isExecutable(file)
                            : FileModes.executableBy(facts.permissions(), facts.uid(), facts.gid(), identity);
                    if (executable) {
                        return Path.of(candidate).normalize().toString();
                    }
                    firstNotExecutable = firstNotExecutable == null ? file.toString() : firstNotExecutable;
                }
            }
            if (firstNotExecutable != null) {
                probed(ExitCode.NO_INPUT, firstNotExecutable + " is not executable" + forWhom(identity));
            } else if (candidates.size() == 1) {
                probed(ExitCode.NO_INPUT, inside(chroot, candidates.get(0)) + " does not exist");
            } else {
                probed(ExitCode.NO_INPUT, quote(program) + " is in no directory of PATH " + path
                        + (chroot == null ? "" : " under chroot " + chroot));
            }
            return null;
        }

        private List<RLimit> parseRlimits() {
            List<RLimit> limits = new ArrayList<>();
            if (spec.rlimits() == null) {
                return limits;
            }
            spec.rlimits().forEach((name, value) -> {
                String field = "rlimits." + name;
                if (!RLimit.NAMES.contains(name)) {
                    problem(ExitCode.USAGE, "'" + field + "': unknown limit; known: " + String.join(", ",
                            RLimit.NAMES.stream().sorted().toList()));
                    return;
                }
                boolean object = value != null && value.isObject();
                if (object) {
                    java.util.Iterator<String> keys = value.fieldNames();
                    while (keys.hasNext()) {
                        String k = keys.next();
                        if (!k.equals("soft") && !k.equals("hard")) {
                            problem(ExitCode.USAGE, "'" + field + "': unknown key '" + k + "'");
                            return;
                        }
                    }
                }
                Long softValue = limitValue(field, object ? value.get("soft") : value);
                Long hardValue = object ? limitValue(field, value.get("hard")) : softValue;
                if (softValue == null || hardValue == null) {
                    return;
                }
                if (hardValue != RLimit.INFINITY && (softValue == RLimit.INFINITY || softValue > hardValue)) {
                    problem(ExitCode.USAGE, "'" + field + "': soft limit exceeds the hard limit");
                    return;
                }
                limits.add(new RLimit(name, softValue, hardValue));
            });
            return limits;
        }

        private Long limitValue(String field, JsonNode node) {
            if (node != null && node.isTextual() && node.asText().equals("infinity")) {
                return RLimit.INFINITY;
            }
            if (node != null && node.canConvertToExactIntegral() && node.canConvertToLong() && node.asLong() >= 0) {
                return node.asLong();
            }
            problem(ExitCode.USAGE, "'" + field + "' must be a non-negative integer, \"infinity\", or"
                    + " {\"soft\": ..., \"hard\": ...}");
            return null;
        }

        private int checkNotifyFd(Readiness readiness) {
            if (readiness != Readiness.NOTIFY_FD) {
                if (spec.notifyFd() != null) {
                    problem(ExitCode.USAGE, "'notify_fd' applies only with \"readiness\": \"notify-fd\"");
                }
                return -1;
            }
            int fd = Objects.requireNonNullElse(spec.notifyFd(), Defaults.NOTIFY_FD);
            if (fd < 3 || fd > Defaults.MAX_NOTIFY_FD) {
                problem(ExitCode.USAGE, "'notify_fd' must be between 3 and " + Defaults.MAX_NOTIFY_FD + ": " + fd);
            }
            return fd;
        }

        private Supervision parseSupervision() {
            Supervision d = Supervision.defaults();
            Set<Integer> success = d.successExitCodes();
            if (spec.successExitCodes() != null) {
                success = new java.util.TreeSet<>();
                for (Integer code : spec.successExitCodes()) {
                    if (code == null || code < 0 || code > 255) {
                        problem(ExitCode.USAGE, "'success_exit_codes' must hold exit codes from 0 to 255: " + code);
                    } else {
                        success.add(code);
                    }
                }
            }
            int stopSignal = d.stopSignal();
            if (spec.stopSignal() != null) {
                OptionalInt number = Signals.number(spec.stopSignal());
                if (number.isEmpty()) {
                    problem(ExitCode.USAGE, "'stop_signal' is not a signal name or number: " + quote(spec.stopSignal())
                            + DidYouMean.hint(spec.stopSignal().toUpperCase(java.util.Locale.ROOT).replaceFirst("^SIG", ""),
                                    Signals.names()));
                } else {
                    stopSignal = number.getAsInt();
                }
            }
            int limit = Objects.requireNonNullElse(spec.restartLimit(), d.restartLimit());
            if (limit < 0) {
                problem(ExitCode.USAGE, "'restart_limit' must be 0 or more: " + limit);
            }
            Duration delay = seconds("restart_delay", spec.restartDelay(), d.restartDelay(), true);
            Duration delayMax = seconds("restart_delay_max", spec.restartDelayMax(), d.restartDelayMax(), true);
            if (delayMax.compareTo(delay) < 0) {
                problem(ExitCode.USAGE, "'restart_delay_max' is below 'restart_delay'");
            }
            return new Supervision(Objects.requireNonNullElse(spec.restart(), d.restart()), success, delay, delayMax, limit,
                    seconds("restart_window", spec.restartWindow(), d.restartWindow(), false), stopSignal,
                    seconds("stop_timeout", spec.stopTimeout(), d.stopTimeout(), true),
                    Boolean.TRUE.equals(spec.autostart()), Objects.requireNonNullElse(spec.killMode(), d.killMode()));
        }

        private Duration seconds(String field, Double value, Duration fallback, boolean zeroAllowed) {
            if (value == null) {
                return fallback;
            }
            if (value.isNaN() || value.isInfinite() || value < 0 || (!zeroAllowed && value == 0)
                    || value > Defaults.MAX_SECONDS) {
                problem(ExitCode.USAGE, "'" + field + "' must be a number of seconds" + (zeroAllowed ? " from 0" : " above 0")
                        + " up to " + Defaults.MAX_SECONDS + ": " + value);
                return fallback;
            }
            return Duration.ofNanos(Math.round(value * 1e9));
        }
    }

    /**
     * Why the helper would refuse this existing file as a job's output, lock or pid file for a
     * job running as {@code owner} (docs/security.md, Rule 3: a regular file with one link, the
     * job user's), or empty.
     */
    private static Optional<String> whyNotJobsFile(PathFacts facts, int owner) {
        if (!facts.isRegularFile()) {
            return Optional.of("is not a regular file");
        }
        if (facts.links() != 1) {
            return Optional.of("has " + facts.links() + " hard links; blivet uses an existing file only with one");
        }
        if (facts.uid() != owner) {
            return Optional.of("belongs to uid " + Integer.toUnsignedString(facts.uid()) + ", not to the job's user (uid "
                    + Integer.toUnsignedString(owner) + "); blivet uses an existing file only if it does");
        }
        return Optional.empty();
    }

    private static Path inside(String chroot, String path) {
        return chroot == null ? Path.of(path) : Path.of(chroot, path).normalize();
    }

    private static String forWhom(Identity identity) {
        return identity == null ? "" : " by uid " + identity.uid();
    }

    private static boolean contains(int[] values, int value) {
        for (int v : values) {
            if (v == value) {
                return true;
            }
        }
        return false;
    }

    private static String quote(String text) {
        return "\"" + text.replace("\0", "\\0") + "\"";
    }
}
