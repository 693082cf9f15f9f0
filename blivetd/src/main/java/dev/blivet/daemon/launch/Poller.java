package dev.blivet.daemon.launch;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * poll(2) on a handful of fds with a deadline: the launcher's one way to wait, so that every wait
 * is bounded and nothing spins.
 */
final class Poller {
    private static final int POLLFD_SIZE = 8; // struct pollfd { int fd; short events; short revents; }

    private final NativeOs os;
    private final int[] fds;
    private final Pointer pollfds;

    /** A negative fd is skipped by poll(2), so callers keep fixed slots for fds they may lack. */
    Poller(NativeOs os, int... fds) {
        this.os = os;
        this.fds = fds.clone();
        this.pollfds = Memory.allocateDirect(os.runtime(), POLLFD_SIZE * fds.length);
    }

    /**
     * Waits until one of the fds is readable (or hung up) or the deadline passes.
     *
     * @return a bit set of the ready slots, 0 on timeout
     */
    int await(long deadlineNanos) {
        for (int i = 0; i < fds.length; i++) {
            pollfds.putInt((long) i * POLLFD_SIZE, fds[i]);
            pollfds.putShort((long) i * POLLFD_SIZE + 4, LinuxLibC.POLLIN);
            pollfds.putShort((long) i * POLLFD_SIZE + 6, (short) 0);
        }
        while (true) {
            long remaining = deadlineNanos - System.nanoTime();
            // Polls at least once, so a deadline already past still reports what is ready now.
            int millis = (int) Math.max(0, Math.min(Integer.MAX_VALUE, (remaining + 999_999) / 1_000_000));
            int n = os.libc().poll(pollfds, fds.length, millis);
            if (n < 0) {
                int errno = os.errno();
                if (errno == LinuxLibC.EINTR) {
                    continue;
                }
                throw new IllegalStateException("poll: " + os.strerror(errno));
            }
            if (n == 0) {
                if (deadlineNanos - System.nanoTime() <= 0) {
                    return 0;
                }
                continue; // woken early by rounding: wait out the rest
            }
            int ready = 0;
            for (int i = 0; i < fds.length; i++) {
                if (pollfds.getShort((long) i * POLLFD_SIZE + 6) != 0) {
                    ready |= 1 << i;
                }
            }
            return ready;
        }
    }
}
