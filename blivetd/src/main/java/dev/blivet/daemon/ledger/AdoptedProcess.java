package dev.blivet.daemon.ledger;

import dev.blivet.daemon.launch.ExitStatus;
import dev.blivet.daemon.proc.ProcStat;
import java.util.concurrent.CompletableFuture;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * A job's process that an earlier blivetd started and this one re-adopted: not our child (it was
 * reparented to the keeper or to init), so the Reaper never sees it. It is held by a pidfd opened
 * before its start time was checked, so the pidfd names that very process and a signal sent
 * through it can never reach a later process that reused the pid (docs/architecture.md, "Custody").
 */
public final class AdoptedProcess {
    /** How an adopted process ended: its wait status, or null when no one could tell. */
    public record Ended(ExitStatus exit) {
    }

    private final LedgerOs os;
    private final int pid;
    private final int pgid;
    private final long startTime;
    private final Object lock = new Object();
    /** -1 once the end is known and the pidfd closed. */
    private int pidfd;
    final CompletableFuture<Ended> ended = new CompletableFuture<>();

    AdoptedProcess(LedgerOs os, int pid, int pgid, long startTime, int pidfd) {
        this.os = os;
        this.pid = pid;
        this.pgid = pgid;
        this.startTime = startTime;
        this.pidfd = pidfd;
    }

    public int pid() {
        return pid;
    }

    public int pgid() {
        return pgid;
    }

    public long startTime() {
        return startTime;
    }

    /** Completes once the watcher knows the process ended (with its status if anyone could tell). */
    public CompletableFuture<Ended> ended() {
        return ended;
    }

    /** Sends {@code signal} to the process through its pidfd: never to another process. */
    public boolean signal(int signal) {
        synchronized (lock) {
            return pidfd >= 0 && os.libc().syscall(LedgerLibC.SYS_PIDFD_SEND_SIGNAL, pidfd, signal, 0, 0) == 0;
        }
    }

    /**
     * Sends {@code signal} to the job's process group, only while the pidfd shows the main process
     * alive and /proc shows it still in that group: a group id cannot be reused while a member
     * lives. Residual (docs/architecture.md, "Custody"): between that check and kill(2) the main
     * process can end; the group id is then still held by any other member, and is reusable only
     * if every member ended and was reaped in that window and a new session took the number.
     */
    public boolean signalGroup(int signal) {
        synchronized (lock) {
            if (pidfd < 0 || exitedNow()) {
                return false;
            }
            ProcStat now = ProcStat.of(pid);
            if (now == null || now.startTime() != startTime || now.pgid() != pgid) {
                return false;
            }
            return os.os().libc().kill(-pgid, signal) == 0;
        }
    }

    /** Whether the pidfd is readable now: the process has ended (a zombie or reaped). */
    private boolean exitedNow() {
        Pointer poll = Memory.allocateDirect(os.runtime(), 8);
        poll.putInt(0, pidfd);
        poll.putShort(4, (short) 1);
        poll.putShort(6, (short) 0);
        return os.libc().poll(poll, 1, 0) > 0;
    }

    int pidfd() {
        synchronized (lock) {
            return pidfd;
        }
    }

    /**
     * The exit status through PIDFD_GET_INFO (Linux 6.15+), once whoever is the parent reaped it;
     * null before that, or on older kernels.
     */
    ExitStatus exitInfo() {
        synchronized (lock) {
            if (pidfd < 0) {
                return null;
            }
            byte[] info = new byte[LedgerLibC.PIDFD_INFO_SIZE];
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(info).order(java.nio.ByteOrder.nativeOrder());
            buffer.putLong(0, LedgerLibC.PIDFD_INFO_EXIT);
            if (os.libc().ioctl(pidfd, LedgerLibC.PIDFD_GET_INFO, info) != 0) {
                return null;
            }
            if ((buffer.getLong(0) & LedgerLibC.PIDFD_INFO_EXIT) == 0) {
                return null;
            }
            return ExitStatus.decode(buffer.getInt(LedgerLibC.PIDFD_INFO_EXIT_CODE_OFFSET));
        }
    }

    /** The end is known: nothing may signal it any more. */
    void finish(Ended how) {
        synchronized (lock) {
            if (pidfd >= 0) {
                os.libc().close(pidfd);
                pidfd = -1;
            }
        }
        ended.complete(how);
    }
}
