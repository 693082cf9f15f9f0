package dev.blivet.daemon.launch;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * poll(2) on a few fds: the launcher's and the notify watcher's one way to wait, so that every
 * wait is either bounded or woken by an fd, and nothing spins.
 */
public final class Poller {
    private static final int POLLFD_SIZE = 8; // struct pollfd { int fd; short events; short revents; }

    private final NativeOs os;
    private final int[] fds;
    private final Pointer pollfds;

    /** A negative fd is skipped by poll(2), so callers keep fixed slots for fds they may lack. */
    public Poller(NativeOs os, int... fds) {
        this.os = os;
        this.fds = fds.clone();
        this.pollfds = Memory.allocateDirect(os.runtime(), POLLFD_SIZE * Math.max(1, fds.length));
    }

    /**
     * Waits until one of the fds is readable (or hung up) or the deadline passes; polls at least
     * once, so a deadline already past still reports what is ready now.
     *
     * @return whether any fd is ready; {@link #isReady} tells which
     */
    boolean await(long deadlineNanos) {
        arm();
        while (true) {
            long remaining = deadlineNanos - System.nanoTime();
            int millis = (int) Math.max(0, Math.min(Integer.MAX_VALUE, (remaining + 999_999) / 1_000_000));
            if (poll(millis) > 0) {
                return true;
            }
            if (deadlineNanos - System.nanoTime() <= 0) {
                return false;
            }
        }
    }

    /** Waits with no deadline, for callers woken by one of their own fds. */
    public void awaitAny() {
        arm();
        while (poll(-1) <= 0) {
            // EINTR: go on waiting
        }
    }

    public boolean isReady(int slot) {
        return pollfds.getShort((long) slot * POLLFD_SIZE + 6) != 0;
    }

    private void arm() {
        for (int i = 0; i < fds.length; i++) {
            pollfds.putInt((long) i * POLLFD_SIZE, fds[i]);
            pollfds.putShort((long) i * POLLFD_SIZE + 4, LinuxLibC.POLLIN);
            pollfds.putShort((long) i * POLLFD_SIZE + 6, (short) 0);
        }
    }

    /** poll(2) once; 0 on timeout or EINTR. */
    private int poll(int millis) {
        int n = os.libc().poll(pollfds, fds.length, millis);
        if (n < 0) {
            int errno = os.errno();
            if (errno != LinuxLibC.EINTR) {
                throw new IllegalStateException("poll: " + os.strerror(errno));
            }
            return 0;
        }
        return n;
    }
}
