package dev.blivet.daemon.supervisor;

/** Receives state changes; returns false to unsubscribe (e.g. its client is gone or too slow). */
public interface Subscriber {
    int uid();

    boolean offer(JobSnapshot change);

    /** The job was removed (no snapshot says so); most subscribers need not care. */
    default void forgotten(String name) {
    }
}
