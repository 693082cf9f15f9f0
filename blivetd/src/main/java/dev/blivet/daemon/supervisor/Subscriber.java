package dev.blivet.daemon.supervisor;

/** Receives state changes; returns false to unsubscribe (e.g. its client is gone or too slow). */
public interface Subscriber {
    int uid();

    boolean offer(JobSnapshot change);
}
