package dev.blivet.daemon.ledger;

import dev.blivet.daemon.Log;
import dev.blivet.daemon.keeper.ExitRecord;
import dev.blivet.daemon.keeper.ExitSource;
import dev.blivet.daemon.launch.ExitStatus;
import dev.blivet.daemon.proc.ProcStat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * Learns when re-adopted processes end: one thread polls every adopted pidfd (readable once the
 * process has ended) beside a wake pipe. Once one fires, its exact status comes from the keeper's
 * exit record (pid and start time match) or, where the kernel keeps it (6.15+), from
 * PIDFD_GET_INFO on the pidfd held since adoption. The keeper reaps asynchronously, so the watcher
 * keeps asking until {@link #keeperWait} has passed, then records the status as unknown. Idle
 * with nothing adopted, it blocks in poll(2) without a timeout.
 */
public final class AdoptionWatcher implements AutoCloseable {
    /** How often an ended process's status is asked for again while neither source has it. */
    private static final Duration RETRY = Duration.ofMillis(20);

    private final LedgerOs os;
    private final ExitSource exits;
    private final Log log;
    private final Duration keeperWait;
    private final int[] wake = new int[2];
    private final Object lock = new Object();
    private final List<AdoptedProcess> watched = new ArrayList<>();
    /** Ended processes whose status is still awaited, with their deadlines (nanoTime). */
    private final Map<AdoptedProcess, Long> resolving = new HashMap<>();
    private Thread thread;
    private volatile boolean open = true;

    /** @param keeperWait how long after a process ended its keeper record may take to appear */
    public AdoptionWatcher(LedgerOs os, ExitSource exits, Log log, Duration keeperWait) {
        this.os = os;
        this.exits = exits;
        this.log = log;
        this.keeperWait = keeperWait;
        if (os.libc().pipe2(wake, dev.blivet.daemon.launch.LinuxLibC.O_CLOEXEC
                | dev.blivet.daemon.launch.LinuxLibC.O_NONBLOCK) != 0) {
            throw new IllegalStateException("pipe2: " + os.strerror(os.errno()));
        }
        exits.onNew(this::wakeUp);
    }

    /**
     * Takes custody of {@code pid} if it is still the process the ledger recorded: the pidfd is
     * opened first and the start time checked after, so the pidfd cannot name a process that
     * merely reused the pid. Its end is watched from the next {@link #watch}: a pidfd stays
     * readable once its process ended, so none is missed, and a thousand adoptions cost the
     * watcher thread one pass instead of a thousand (docs/benchmarks.md, "Custody"). Thread safe.
     *
     * @return the adopted process (already ended, perhaps: then its end is being resolved), or
     *     null when pid names no process or another one (never signalled)
     */
    public AdoptedProcess adopt(int pid, int pgid, long startTime) {
        int pidfd = (int) os.libc().syscall(LedgerLibC.SYS_PIDFD_OPEN, pid, 0, 0, 0);
        if (pidfd < 0) {
            int errno = os.errno();
            if (errno != LedgerLibC.ESRCH) {
                log.warn("pidfd_open(" + pid + "): " + os.strerror(errno) + "; treating it as gone");
            }
            return null;
        }
        ProcStat now = ProcStat.of(pid);
        if (now == null || now.startTime() != startTime) {
            // pidfd_open succeeded on a reaped process's pid only if the number was reused: not ours.
            os.libc().close(pidfd);
            return null;
        }
        AdoptedProcess process = new AdoptedProcess(os, pid, pgid, startTime, pidfd);
        synchronized (lock) {
            watched.add(process);
        }
        return process;
    }

    /** Watches every process adopted so far: called once after a batch of {@link #adopt}s. */
    public void watch() {
        synchronized (lock) {
            if (thread == null && !watched.isEmpty()) {
                thread = new Thread(this::run, "blivet-adoption");
                thread.setDaemon(true);
                thread.start();
            }
        }
        wakeUp();
    }

    /**
     * The exit of a process that ended before it could be adopted: the keeper's record if it has
     * one, else null (unknown). Consumes the record.
     */
    public ExitStatus endedUnseen(int pid, long startTime) {
        ExitRecord record = exits.find(pid, startTime).orElse(null);
        if (record == null) {
            return null;
        }
        exits.consumed(record);
        return ExitStatus.decode(record.waitStatus());
    }

    private void wakeUp() {
        os.libc().write(wake[1], new byte[] {1}, 1);
    }

    private void run() {
        byte[] drain = new byte[64];
        while (open) {
            List<AdoptedProcess> polled;
            long nextDeadline;
            synchronized (lock) {
                polled = List.copyOf(watched);
                nextDeadline = resolving.isEmpty() ? -1 : System.nanoTime() + RETRY.toNanos();
            }
            Pointer fds = Memory.allocateDirect(os.runtime(), 8L * (polled.size() + 1));
            fds.putInt(0, wake[0]);
            fds.putShort(4, (short) 1);
            for (int i = 0; i < polled.size(); i++) {
                fds.putInt(8L * (i + 1), polled.get(i).pidfd());
                fds.putShort(8L * (i + 1) + 4, (short) 1);
            }
            int timeout = nextDeadline < 0 ? -1 : (int) RETRY.toMillis();
            os.libc().poll(fds, polled.size() + 1, timeout);
            os.libc().read(wake[0], drain, drain.length);
            long now = System.nanoTime();
            synchronized (lock) {
                for (int i = 0; i < polled.size(); i++) {
                    if (fds.getShort(8L * (i + 1) + 6) != 0) {
                        AdoptedProcess ended = polled.get(i);
                        watched.remove(ended);
                        resolving.put(ended, now + keeperWait.toNanos());
                    }
                }
            }
            resolve(now);
        }
    }

    /** Finishes each ended process whose status is known now, or whose wait for it is over. */
    private void resolve(long now) {
        List<Map.Entry<AdoptedProcess, Long>> pending;
        synchronized (lock) {
            pending = List.copyOf(resolving.entrySet());
        }
        for (Map.Entry<AdoptedProcess, Long> entry : pending) {
            AdoptedProcess process = entry.getKey();
            ExitStatus exit = endedUnseen(process.pid(), process.startTime());
            if (exit == null) {
                exit = process.exitInfo();
            }
            if (exit != null || now - entry.getValue() >= 0) {
                synchronized (lock) {
                    resolving.remove(process);
                }
                process.finish(new AdoptedProcess.Ended(exit));
            }
        }
    }

    @Override
    public void close() {
        open = false;
        wakeUp();
    }
}
