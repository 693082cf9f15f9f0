package dev.blivet.bench;

import java.util.HashMap;
import java.util.Map;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The kernel's own timestamp of each exec, from the proc connector (netlink; needs root): the
 * moment "the daemon has exec'd", the same instant the daemonize harness reads (daemonize-bench.c).
 *
 * <p>Nothing waits on the socket: the kernel queues the events in its receive buffer and
 * {@link #execsSince} drains them once a start is over, outside the timed part, so measuring this
 * adds no wakeup to the start itself. Timestamps are CLOCK_MONOTONIC, like System.nanoTime() on
 * Linux.
 */
final class ProcEvents implements AutoCloseable {
    /** libc as far as this needs it. */
    public interface Lib {
        int socket(int domain, int type, int protocol);

        int bind(int fd, Pointer addr, int len);

        long send(int fd, Pointer buf, long len, int flags);

        long recv(int fd, Pointer buf, long len, int flags);

        int setsockopt(int fd, int level, int name, Pointer value, int len);

        int getpid();

        int close(int fd);
    }

    private static final int AF_NETLINK = 16;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int NETLINK_CONNECTOR = 11;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVBUFFORCE = 33;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int EINTR = 4;
    private static final int ENOBUFS = 105;
    private static final int CN_IDX_PROC = 1;
    private static final int CN_VAL_PROC = 1;
    private static final int NLMSG_DONE = 3;
    private static final int PROC_CN_MCAST_LISTEN = 1;
    private static final int PROC_EVENT_EXEC = 2;
    // struct nlmsghdr (16 bytes), then struct cn_msg (20), then struct proc_event:
    // what at +0, timestamp_ns at +8, event_data.exec.process_tgid at +20.
    private static final int EVENT = 16 + 20;

    private final Lib lib;
    private final Runtime runtime;
    private final int fd;
    private final Pointer buffer;
    private long overruns;

    private ProcEvents(Lib lib, int fd, Runtime runtime) {
        this.lib = lib;
        this.runtime = runtime;
        this.fd = fd;
        this.buffer = Memory.allocateDirect(runtime, 8192);
    }

    /** Listening, or null when the proc connector is not available (not root, no CONFIG_PROC_EVENTS). */
    static ProcEvents open() {
        Lib lib = LibraryLoader.create(Lib.class).load("c");
        Runtime runtime = Runtime.getRuntime(lib);
        int fd = lib.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
        if (fd < 0) {
            return null;
        }
        Pointer size = Memory.allocateDirect(runtime, 4);
        size.putInt(0, 8 << 20);
        lib.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4);
        Pointer addr = Memory.allocateDirect(runtime, 12); // struct sockaddr_nl
        addr.putShort(0, (short) AF_NETLINK);
        addr.putInt(4, 0);
        addr.putInt(8, CN_IDX_PROC);
        Pointer listen = Memory.allocateDirect(runtime, 40);
        listen.putInt(0, 40); // nlmsg_len
        listen.putShort(4, (short) NLMSG_DONE);
        listen.putInt(12, lib.getpid());
        listen.putInt(16, CN_IDX_PROC);
        listen.putInt(20, CN_VAL_PROC);
        listen.putShort(32, (short) 4); // cn_msg.len
        listen.putInt(36, PROC_CN_MCAST_LISTEN);
        if (lib.bind(fd, addr, 12) != 0 || lib.send(fd, listen, 40, 0) != 40) {
            lib.close(fd);
            return null;
        }
        return new ProcEvents(lib, fd, runtime);
    }

    /** Drops what is queued: call before a start, so only its own events are read after it. */
    void discard() {
        execsSince(Long.MIN_VALUE);
    }

    /** Drains the queue: tgid to the kernel's time (nanos) of its exec, for execs at or after sinceNanos. */
    Map<Integer, Long> execsSince(long sinceNanos) {
        Map<Integer, Long> execs = new HashMap<>();
        while (true) {
            long n = lib.recv(fd, buffer, 8192, MSG_DONTWAIT);
            if (n < 0) {
                int errno = LastError.getLastError(runtime);
                if (errno == ENOBUFS) {
                    overruns++; // events were lost: the caller finds no exec for its pid
                    continue;
                }
                if (errno == EINTR) {
                    continue;
                }
                return execs; // EAGAIN: drained
            }
            if (n < EVENT + 24 || buffer.getShort(4) != NLMSG_DONE || buffer.getInt(16) != CN_IDX_PROC) {
                continue;
            }
            if (buffer.getInt(EVENT) == PROC_EVENT_EXEC) {
                long at = buffer.getLong(EVENT + 8);
                if (at - sinceNanos >= 0) {
                    execs.put(buffer.getInt(EVENT + 20), at);
                }
            }
        }
    }

    long overruns() {
        return overruns;
    }

    @Override
    public void close() {
        lib.close(fd);
    }
}
