package dev.blivet.daemon.supervisor;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The latest snapshot the supervisor has shown of each job, readable from any thread, so that a
 * connection thread answers {@code status} without a round trip through the supervisor's loop.
 * The loop still owns every job (docs/architecture.md, Rule 3); it only publishes immutable snapshots
 * here. It puts each snapshot here before a reply or an event carries it, so a client never reads
 * a state older than one it was already told, and it forgets a job before answering its removal.
 */
final class PublishedJobs {
    private final ConcurrentHashMap<String, JobSnapshot> latest = new ConcurrentHashMap<>();

    void show(JobSnapshot snapshot) {
        latest.put(snapshot.name(), snapshot);
    }

    void forget(String name) {
        latest.remove(name);
    }

    Optional<JobSnapshot> get(String name) {
        return Optional.ofNullable(latest.get(name));
    }
}
