package dev.blivet.daemon.launch;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Lets a stop interrupt a launch that is still waiting for readiness: every wait of the launch
 * also polls this pipe, so a cancelled start ends at once (its job killed and reaped as any
 * failed start) instead of at its ready_timeout.
 */
public final class LaunchCancel implements AutoCloseable {
    private final NativeOs os;
    private final int[] pipe = new int[2];
    private final AtomicBoolean requested = new AtomicBoolean();

    public LaunchCancel(NativeOs os) {
        this.os = os;
        if (os.libc().pipe2(pipe, LinuxLibC.O_CLOEXEC | LinuxLibC.O_NONBLOCK) != 0) {
            throw new IllegalStateException("pipe2: " + os.strerror(os.errno()));
        }
    }

    /** Asks the launch to give up; harmless once it has finished. */
    public void cancel() {
        if (requested.compareAndSet(false, true)) {
            os.libc().write(pipe[1], new byte[] {1}, 1);
        }
    }

    boolean requested() {
        return requested.get();
    }

    /** Readable once cancelled. */
    int fd() {
        return pipe[0];
    }

    @Override
    public void close() {
        os.close(pipe[0]);
        os.close(pipe[1]);
    }
}
