package dev.blivet.daemon.launch;

import dev.blivet.daemon.proc.ProcStat;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether the pid a forking job's pidfile names may become the job's main process. The pidfile
 * is written by the job (whose user may be hostile), so the pid is a claim to check, never a
 * fact: blivetd would otherwise signal, and report as the job, a process of someone else.
 *
 * <p>The pid must be a live process (not a zombie) that is blivetd's own child (the job's
 * daemon, reparented to blivetd as its subreaper: only then is its exit ours to reap, and exact);
 * not init, not blivetd; not a pid some other start or job already claimed from the
 * {@link Reaper} (another job's main process or helper); running with the job's real uid when the
 * job has one; and, where the job has a cgroup, listed in that cgroup's cgroup.procs. Some of
 * these can become true a moment later (the daemon is reparented to blivetd only once its
 * intermediate parent exits): those are {@link Verdict#NOT_YET}; the rest can never change.
 */
final class ForkedDaemon {
    /** How many lines of a cgroup.procs are looked at: a job with more processes is refused. */
    static final int MAX_PROCS_LINES = 65_536;

    enum Verdict { OK, NOT_YET, NEVER }

    record Check(Verdict verdict, String why) {
        static final Check OK = new Check(Verdict.OK, "");
    }

    private final Path proc;
    private final int self;
    private final Reaper reaper;

    ForkedDaemon(Path proc, int self, Reaper reaper) {
        this.proc = proc;
        this.self = self;
        this.reaper = reaper;
    }

    /**
     * @param uid the job's uid, or -1 when it runs as blivetd (whatever its processes' uids)
     * @param cgroup the job's cgroup directory, or null without one
     */
    Check check(String pidfile, int pid, int uid, Path cgroup) {
        String named = "pidfile " + pidfile + " names pid " + pid;
        if (pid <= 1) {
            return never(named + (pid == 1 ? ", which is init" : ", which is no process"));
        }
        if (pid == self) {
            return never(named + ", which is blivetd itself");
        }
        if (reaper.claimed(pid)) {
            return never(named + ", which is another job's process");
        }
        ProcStat stat = ProcStat.of(proc, pid);
        if (stat == null || !stat.alive()) {
            return notYet(named + ", which is not a live process");
        }
        if (stat.ppid() != self) {
            return notYet(named + ", which is not a process of the job (its parent is pid " + stat.ppid()
                    + ", not blivetd)");
        }
        int realUid = uid >= 0 ? ProcStat.realUid(proc, pid) : -1;
        if (uid >= 0 && realUid < 0) {
            return notYet(named + ", whose uid cannot be read (it ended meanwhile?)");
        }
        if (uid >= 0 && realUid != uid) {
            return never(named + ", which runs as uid " + realUid + ", not as the job's uid " + uid);
        }
        if (cgroup != null && !inCgroup(cgroup, pid)) {
            return never(named + ", which is not in the job's cgroup " + cgroup);
        }
        return Check.OK;
    }

    private static boolean inCgroup(Path cgroup, int pid) {
        String wanted = Integer.toString(pid);
        try (BufferedReader procs = Files.newBufferedReader(cgroup.resolve("cgroup.procs"))) {
            String line;
            for (int i = 0; i < MAX_PROCS_LINES && (line = procs.readLine()) != null; i++) {
                if (line.equals(wanted)) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    private static Check never(String why) {
        return new Check(Verdict.NEVER, why);
    }

    private static Check notYet(String why) {
        return new Check(Verdict.NOT_YET, why);
    }
}
