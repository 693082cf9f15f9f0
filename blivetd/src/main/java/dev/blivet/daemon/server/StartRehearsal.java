package dev.blivet.daemon.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.ReservedName;
import dev.blivet.common.StrictJson;
import dev.blivet.common.protocol.Op;
import dev.blivet.common.protocol.Protocol;
import dev.blivet.daemon.Log;
import dev.blivet.daemon.cgroup.JobCgroups;
import dev.blivet.daemon.cgroup.LeftoverSweep;
import dev.blivet.daemon.ledger.CrashPoints;
import dev.blivet.daemon.ledger.JobLedger;
import dev.blivet.daemon.supervisor.Supervisor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * A real start at boot, before blivetd serves (docs/architecture.md, "The start rehearsal at
 * boot"): a job of the {@link ReservedName#REHEARSAL reserved name}, {@code /bin/sh -c 'exit 0'},
 * is started like a client's (a start request with wait, through a {@link RequestHandler}), waited
 * for until it has exited and been reaped, started again by name, and removed. It runs on a
 * supervisor of its own, with a ledger of its own in a {@link RehearsalScratch scratch directory},
 * sharing blivetd's launcher, reaper, process control (cgroups) and native libraries: what a first
 * start does for the first time in a JVM (its lambdas linked, each native bound on its first call
 * on the very library instances later starts use, its classes initialized, its code run
 * interpreted) is done here rather than on a client's first start (docs/benchmarks.md, "Issue 13").
 *
 * <p>Nothing of it is seen: not in the real ledger or state directory, not in status or list
 * (another supervisor), not in the log above debug. It never stops blivetd: a failure is a debug
 * line, and blivetd serves after {@link #DEADLINE} whatever the rehearsal does. What a crash in
 * the middle leaves (the scratch directory, processes in the rehearsal job's cgroup) the next
 * boot's rehearsal clears first.
 */
public final class StartRehearsal {
    /**
     * Starts per boot. Two: the launcher hands starts to its loops in turn, so the second start
     * runs on the other loop; a third found nothing cold left (docs/benchmarks.md, "Round 4").
     */
    public static final int STARTS = 2;
    /** The longest blivetd waits for the rehearsal; it takes a few tens of milliseconds. */
    static final Duration DEADLINE = Duration.ofSeconds(10);

    private static final StrictJson REQUESTS = new StrictJson(Protocol.REQUEST_LIMITS);

    /** The rehearsal job's cgroup, under blivetd's jobs' cgroup. */
    public interface Cgroup {
        /** Without cgroups: nothing to look at or clear. */
        Cgroup NONE = new Cgroup() {
            @Override
            public boolean occupied() {
                return false;
            }

            @Override
            public boolean clear(Duration wait) {
                return true;
            }
        };

        /** The rehearsal job's cgroup among {@code cgroups}, or {@link #NONE} where blivetd has none. */
        static Cgroup of(JobCgroups cgroups, Log log) {
            if (cgroups == null) {
                return NONE;
            }
            return new Cgroup() {
                @Override
                public boolean occupied() {
                    return cgroups.populated(ReservedName.REHEARSAL);
                }

                @Override
                public boolean clear(Duration wait) {
                    return new LeftoverSweep(cgroups, log).clear(ReservedName.REHEARSAL, wait);
                }
            };
        }

        /** Whether a process is in it. */
        boolean occupied();

        /** Kills what is in it and removes it, waiting at most {@code wait}; true when none is left. */
        boolean clear(Duration wait);
    }

    /** Opens the rehearsal's own ledger (JobLedger#open on the scratch directory). */
    @FunctionalInterface
    public interface Ledgers {
        JobLedger open(Path stateDir, Path runtimeDir) throws IOException;
    }

    private final RehearsalScratch scratch;
    private final Ledgers ledgers;
    private final Function<JobLedger, Supervisor> supervisors;
    private final Function<Supervisor, RequestHandler> handlers;
    private final Cgroup cgroup;
    private final Replies replies;
    private final ObjectMapper mapper;
    private final Peer peer;
    private final CrashPoints crash;
    private final Log log;

    /**
     * @param socketDir the directory of blivetd's socket, where the scratch directory goes
     * @param ledgers the rehearsal's ledger on its scratch directories (never the real one)
     * @param supervisors a supervisor over blivetd's launcher and process control, recording to the given ledger
     * @param handlers a request handler on that supervisor whose resolver takes the reserved name
     *     ({@code JobSpecResolver#forRehearsal})
     * @param cgroup the rehearsal job's cgroup ({@link Cgroup#NONE} without cgroups); its clear kills what is in it and removes it, waiting at
     *     most so long; true when none is left (always true without cgroups)
     */
    public StartRehearsal(Path socketDir, int uid, int gid, Ledgers ledgers, Function<JobLedger, Supervisor> supervisors,
            Function<Supervisor, RequestHandler> handlers, Cgroup cgroup, ObjectMapper mapper,
            CrashPoints crash, Log log) {
        this.scratch = new RehearsalScratch(socketDir, uid);
        this.ledgers = ledgers;
        this.supervisors = supervisors;
        this.handlers = handlers;
        this.cgroup = cgroup;
        this.mapper = mapper;
        this.replies = new Replies(mapper);
        this.peer = new Peer((int) ProcessHandle.current().pid(), uid, gid);
        this.crash = crash;
        this.log = log;
    }

    /**
     * Runs the rehearsal on a thread of its own, in a thread group of its own, and returns once it
     * and every thread it made (its supervisor's) have ended, or after {@link #DEADLINE}: a
     * client's first start must find no thread come or go (FirstStartTest). Never throws.
     */
    public void run() {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        ThreadGroup group = new ThreadGroup("blivet-rehearsal");
        Thread thread = new Thread(group, () -> rehearse(deadline), "blivet-rehearsal");
        thread.setDaemon(true);
        thread.start();
        try {
            thread.join(Math.max(1, remainingMillis(deadline)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("start rehearsal at boot: not done after " + DEADLINE.toSeconds() + " s; blivetd serves without it");
        }
    }

    private void rehearse(long deadline) {
        long began = System.nanoTime();
        // A rehearsal makes its scratch directory before its job and removes it after its cgroup,
        // so processes in the cgroup with no scratch directory are not a rehearsal's: a job
        // that had this name before it was reserved, re-adopted or left running by an upgrade.
        // They are left alone (docs/security.md), and so is the rehearsal.
        if (!scratch.exists() && cgroup.occupied()) {
            log.warn("start rehearsal at boot: skipped: processes run in the cgroup of job " + ReservedName.REHEARSAL
                    + ", which no rehearsal left (a job of that name from before it was reserved); they are left alone");
            return;
        }
        if (!clear(deadline, "an earlier boot's", "; no rehearsal")) {
            return;
        }
        String failure = null;
        try {
            scratch.create();
            JobLedger ledger = ledgers.open(scratch.path().resolve("state"), scratch.path());
            boolean quiet = true; // until a supervisor exists, nothing else uses the ledger
            try {
                Supervisor supervisor = supervisors.apply(ledger);
                try {
                    startAndRemove(handlers.apply(supervisor).forConnection(), deadline);
                } finally {
                    supervisor.close();
                    quiet = supervisorThreadsEnded(deadline);
                }
            } finally {
                // A loop task still to run could write through the ledger's fds: closed, their
                // numbers could be another file's. Left open if the loop did not end (fds leaked).
                if (quiet) {
                    ledger.close();
                }
            }
        } catch (IOException | RuntimeException | ExecutionException | TimeoutException | LinkageError
                | VirtualMachineError e) {
            // Never blivetd's end, whatever it is (a thread that cannot be made, say): the rehearsal only saves time.
            failure = String.valueOf(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "interrupted";
        } finally {
            clear(deadline, "its own", "");
        }
        log.debug(failure == null ? "start rehearsal at boot: " + STARTS + " starts in "
                + (System.nanoTime() - began) / 1_000_000 + " ms"
                : "start rehearsal at boot failed (a first start does its first-time work then): " + failure);
    }

    /** Starts the job (a new one, then by name), each time until it exited; then removes it. */
    private void startAndRemove(RequestHandler handler, long deadline)
            throws IOException, InterruptedException, ExecutionException, TimeoutException {
        ObjectNode spec = mapper.createObjectNode().put("name", ReservedName.REHEARSAL);
        spec.putArray("command").add("/bin/sh").add("-c").add("exit 0");
        spec.put("readiness", "exec").put("restart", "no").put("autostart", false)
                .put("pidfile", scratch.path().resolve("job.pid").toString())
                .put("stdout", scratch.path().resolve("job.out").toString())
                .put("stderr", scratch.path().resolve("job.err").toString());
        for (int i = 0; i < STARTS; i++) {
            ObjectNode start = request(i + 1, "start").put("wait", true);
            if (i == 0) {
                start.set("spec", spec);
            } else {
                start.put("name", ReservedName.REHEARSAL);
            }
            answer(handler, start, deadline);
            crash.reached(CrashPoints.IN_REHEARSAL);
            ObjectNode wait = request(i + 1, "wait").put("name", ReservedName.REHEARSAL)
                    .put("timeout", Math.max(1, remainingMillis(deadline) / 1000));
            wait.putArray("state").add("exited").add("failed");
            JsonNode ended = answer(handler, wait, deadline);
            if (!"exited".equals(ended.path("state").asText()) || ended.path("exit_code").asInt(-1) != 0) {
                throw new IllegalStateException("its job ended so: " + ended);
            }
        }
        answer(handler, request(STARTS + 1, "remove").put("name", ReservedName.REHEARSAL), deadline);
    }

    private ObjectNode request(int id, String op) {
        return mapper.createObjectNode().put("id", id).put("op", op);
    }

    /** A request as a connection answers it: read strictly from its bytes, answered, its reply line written. */
    private JsonNode answer(RequestHandler handler, ObjectNode request, long deadline)
            throws IOException, InterruptedException, ExecutionException, TimeoutException {
        byte[] line = mapper.writeValueAsBytes(request);
        ObjectNode read = (ObjectNode) REQUESTS.parse(line, 0, line.length);
        Op op = Op.fromWire(read.get("op").asText()).orElseThrow();
        JsonNode result = handler.handle(op, read, peer).get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
        replies.line(replies.ok(read.get("id"), result));
        return result;
    }

    /**
     * Waits for the threads the rehearsal's supervisor made (its loop, timer and notify watcher,
     * all in this thread's group) to end after its close. Only blivetd's own: a library's or the
     * JDK's thread started lazily from here (a reference reaper, a pool's worker) joins this
     * group too, serves the whole JVM and never ends.
     */
    private boolean supervisorThreadsEnded(long deadline) {
        ThreadGroup group = Thread.currentThread().getThreadGroup();
        Thread[] threads = new Thread[group.activeCount() + 8];
        int count = group.enumerate(threads);
        try {
            for (int i = 0; i < count; i++) {
                if (threads[i] != Thread.currentThread() && threads[i].getName().startsWith("blivet-")) {
                    threads[i].join(Math.max(1, remainingMillis(deadline)));
                    if (threads[i].isAlive()) {
                        return false;
                    }
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Clears the rehearsal job's cgroup and the scratch directory; false (said at warn) if either stays. */
    private boolean clear(long deadline, String whose, String then) {
        if (!cgroup.clear(Duration.ofMillis(Math.max(1, remainingMillis(deadline))))) {
            log.warn("start rehearsal at boot: cannot clear " + whose + " cgroup of job " + ReservedName.REHEARSAL + then);
            return false;
        }
        try {
            scratch.remove();
            return true;
        } catch (IOException e) {
            log.warn("start rehearsal at boot: cannot remove " + whose + " scratch directory " + scratch.path() + ": "
                    + e.getMessage() + then);
            return false;
        }
    }

    private static long remainingMillis(long deadline) {
        return Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
    }
}
