package dev.blivet.daemon.supervisor;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Every job by name, and who may see which (docs/security.md, need to know): root sees every
 * job, any other uid only its own, and to it another user's job does not exist. Loop thread
 * only, except {@link #published}, which any thread may read.
 */
final class JobTable {
    private final Map<String, Job> jobs = new TreeMap<>();
    private final PublishedJobs published = new PublishedJobs();

    Job get(String name) {
        return jobs.get(name);
    }

    /** Whether {@code job} is still the job of its name (not removed, not replaced). */
    boolean holds(Job job) {
        return jobs.get(job.name) == job;
    }

    void add(Job job) {
        jobs.put(job.name, job);
    }

    void remove(Job job) {
        jobs.remove(job.name);
        published.forget(job.name);
    }

    /** A copy, by name: callers may remove jobs while they go through it. */
    List<Job> all() {
        return List.copyOf(jobs.values());
    }

    /**
     * The job named {@code name} as {@code uid} may see it. Another user's job gets the very
     * answer a missing job gets, so neither the name nor its owner leaks.
     */
    Job find(String name, int uid) {
        Job job = jobs.get(name);
        if (job == null || !visible(job, uid)) {
            throw new Refused(new Refusal.NotFound(name, false));
        }
        return job;
    }

    static boolean visible(Job job, int uid) {
        return uid == 0 || job.owner == uid;
    }

    List<Job> visibleTo(int uid) {
        return jobs.values().stream().filter(job -> visible(job, uid)).toList();
    }

    long ownedBy(int uid) {
        return jobs.values().stream().filter(job -> job.owner == uid).count();
    }

    /** Starts handed to the starter whose result the loop has not handled yet, of all of uid's jobs. */
    int launchesInFlight(int uid) {
        int n = 0;
        for (Job job : jobs.values()) {
            if (job.owner == uid) {
                n += job.launchesInFlight;
            }
        }
        return n;
    }

    /**
     * The job's snapshot, published first (while the job is still one of ours) for the lock-free
     * {@code status}: whatever a reply or event tells a client, a later status tells it too.
     */
    JobSnapshot snapshot(Job job) {
        JobSnapshot snapshot = job.snapshot();
        if (holds(job)) {
            published.show(snapshot);
        }
        return snapshot;
    }

    /** The latest published snapshot of a job {@code uid} may see; any thread. */
    Optional<JobSnapshot> published(String name, int uid) {
        return published.get(name).filter(shown -> uid == 0 || shown.owner() == uid);
    }
}
