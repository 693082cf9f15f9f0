package dev.blivet.daemon.launch;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;

/**
 * Lets a stop interrupt a launch that is still waiting for readiness: the launch checks it at
 * every step and is woken when it is set, so a cancelled start ends at once (its job killed and
 * reaped as any failed start) instead of at its ready_timeout. Also holds a launch's spawn until
 * its caller has recorded the start ({@link #untilRecorded}). Holds no fd, so making one cannot
 * fail for want of descriptors.
 */
public final class LaunchCancel {
    private final AtomicBoolean requested = new AtomicBoolean();
    private volatile Runnable listener;
    /** Whether the helper may be spawned: the caller has recorded the start. */
    private volatile boolean recorded;
    /** Why the caller could not record the start: the launch fails with it, having spawned nothing. */
    private volatile String notRecorded;
    /** Told the job's pid once the helper has forked it: a client may see it while the job starts. */
    private volatile IntConsumer forked = pid -> { };

    /** A launch that may spawn at once. */
    public LaunchCancel() {
        this.recorded = true;
    }

    private LaunchCancel(boolean recorded) {
        this.recorded = recorded;
    }

    /**
     * A launch that prepares its spawn but spawns nothing until {@link #recorded()}: its caller
     * records the start meanwhile, so the record is written beside the launch thread's work
     * instead of before it (docs/architecture.md, "Custody: the ledger").
     */
    public static LaunchCancel untilRecorded() {
        return new LaunchCancel(false);
    }

    /** The start is recorded: the helper may be spawned. Any thread. */
    public void recorded() {
        recorded = true;
        wake();
    }

    /** The start could not be recorded ({@code why}): the launch fails without spawning anything. */
    public void notRecorded(String why) {
        notRecorded = why;
        wake();
    }

    public boolean isRecorded() {
        return recorded;
    }

    String notRecordedBecause() {
        return notRecorded;
    }

    /** Asks the launch to give up; harmless once it has finished. Any thread. */
    public void cancel() {
        if (requested.compareAndSet(false, true)) {
            wake();
        }
    }

    private void wake() {
        Runnable wake = listener;
        if (wake != null) {
            wake.run();
        }
    }

    public boolean requested() {
        return requested.get();
    }

    /**
     * Who to tell the job's pid as soon as the helper reports its fork, before readiness (any
     * thread; the launch loop calls it). Also here rather than in the result: this is the one
     * channel a launch has back to its caller while it runs.
     */
    public void onForked(IntConsumer listener) {
        forked = listener;
    }

    void forked(int pid) {
        forked.accept(pid);
    }

    /** Who to wake on cancel or record; runs at once if already cancelled (it may then run twice: harmless). */
    void onCancel(Runnable wake) {
        listener = wake;
        if (requested.get()) {
            wake.run();
        }
    }
}
