package dev.blivet.daemon.launch;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Lets a stop interrupt a launch that is still waiting for readiness: the launch checks it at
 * every step and is woken when it is set, so a cancelled start ends at once (its job killed and
 * reaped as any failed start) instead of at its ready_timeout. Holds no fd, so making one cannot
 * fail for want of descriptors.
 */
public final class LaunchCancel {
    private final AtomicBoolean requested = new AtomicBoolean();
    private volatile Runnable listener;

    /** Asks the launch to give up; harmless once it has finished. Any thread. */
    public void cancel() {
        if (requested.compareAndSet(false, true)) {
            Runnable wake = listener;
            if (wake != null) {
                wake.run();
            }
        }
    }

    public boolean requested() {
        return requested.get();
    }

    /** Who to wake on cancel; runs at once if already cancelled (it may then run twice: harmless). */
    void onCancel(Runnable wake) {
        listener = wake;
        if (requested.get()) {
            wake.run();
        }
    }
}
