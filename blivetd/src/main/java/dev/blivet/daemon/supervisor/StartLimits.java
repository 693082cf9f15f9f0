package dev.blivet.daemon.supervisor;

import dev.blivet.common.protocol.JobState;
import dev.blivet.daemon.Log;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Per-uid {@link Limits}, so that one user cannot crowd out another: a non-root uid may hold
 * only so many jobs and so many pending starts. A start request past the pending-start limit is
 * refused; a restart (by restart policy) past it waits in that user's queue, at most one entry
 * per job, until one of the user's own starts ends: refusing it would leave a job down for good
 * after a burst, and letting it through would let a user exceed the limit by making its jobs
 * crash. Nobody else's start or restart ever waits for it. Loop thread only.
 */
final class StartLimits {
    private final Limits limits;
    private final int daemonUid;
    private final JobTable table;
    private final Log log;
    /** Restarts of a user at its pending-start limit, in order. */
    private final Map<Integer, ArrayDeque<Job>> waiting = new HashMap<>();

    StartLimits(Limits limits, int daemonUid, JobTable table, Log log) {
        this.limits = limits;
        this.daemonUid = daemonUid;
        this.table = table;
        this.log = log;
    }

    /** Root and blivetd's own user run blivetd: they are trusted and not limited. */
    private boolean exempt(int uid) {
        return uid == 0 || uid == daemonUid;
    }

    void checkJobLimit(int uid) {
        if (exempt(uid)) {
            return;
        }
        long owned = table.ownedBy(uid);
        if (owned >= limits.maxJobsPerUser()) {
            throw new Refused(new Refusal.JobLimit(uid, owned, limits.maxJobsPerUser()));
        }
    }

    void checkStartLimit(int uid) {
        if (exempt(uid)) {
            return;
        }
        ArrayDeque<Job> queue = waiting.get(uid);
        int pending = table.launchesInFlight(uid) + (queue == null ? 0 : queue.size());
        if (pending >= limits.maxStartsPerUser()) {
            throw new Refused(new Refusal.StartLimit(uid, pending, limits.maxStartsPerUser()));
        }
    }

    /**
     * Queues {@code job}'s launch if its owner is at the limit (only a restart gets here: a start
     * request past the limit was refused).
     *
     * @return whether the job now waits its turn; false: launch it now
     */
    boolean queueIfAtLimit(Job job) {
        if (exempt(job.owner) || table.launchesInFlight(job.owner) < limits.maxStartsPerUser()) {
            return false;
        }
        try {
            waiting.computeIfAbsent(job.owner, owner -> new ArrayDeque<>()).add(job);
            job.waitingToStart = true;
            log.info("job " + job.name + ": uid " + job.owner + " has " + limits.maxStartsPerUser() + " starts"
                    + " pending, the most a user may have (" + Limits.STARTS_OPTION + "): waiting for one to end");
            return true;
        } catch (OutOfMemoryError e) {
            unqueue(job); // no room to queue it: it starts now rather than stay STARTING for ever
            return false;
        }
    }

    /** A start of {@code uid} ended: its oldest waiting restarts that still want to start go next. */
    void admit(int uid, Consumer<Job> launch) {
        ArrayDeque<Job> queue = waiting.get(uid);
        while (queue != null && !queue.isEmpty() && table.launchesInFlight(uid) < limits.maxStartsPerUser()) {
            Job job = queue.poll();
            job.waitingToStart = false;
            if (table.holds(job) && job.state() == JobState.STARTING) {
                launch.accept(job);
            }
        }
        if (queue != null && queue.isEmpty()) {
            waiting.remove(uid);
        }
    }

    void unqueue(Job job) {
        ArrayDeque<Job> queue = waiting.get(job.owner);
        if (queue != null) {
            queue.remove(job);
            if (queue.isEmpty()) {
                waiting.remove(job.owner);
            }
        }
        job.waitingToStart = false;
    }
}
