package dev.blivet.daemon.launch;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;

/**
 * Collects the exit status of every child of blivetd, including daemonized jobs (grandchildren
 * reparented to us because we are a child subreaper) and their orphaned descendants, so that
 * nothing stays a zombie (docs/architecture.md, Rule 2).
 *
 * <p>One thread blocks in waitid(P_ALL, WNOWAIT) to learn of an exit without collecting it, then
 * reaps that pid under {@link #whileUnreaped}'s lock. So whoever signals a child under that lock
 * knows its pid (and any group it anchors) cannot have been reused. With no children at all
 * waitid fails at once with ECHILD; the thread then sleeps until {@link #childSpawned()} says a
 * new one may exist, so an idle daemon never polls.
 *
 * <p>A child can exit before whoever started it has claimed its pid: such exits are kept, a
 * bounded number of them, until claimed. The oldest unclaimed ones (orphaned descendants of jobs,
 * which nobody will claim) are dropped first. Each kept exit carries the time it was reaped, so a claim never takes the
 * exit of an earlier process that had the same pid.
 *
 * <p>Whichever comes first, the exit or the claim, a reap runs the same code and tells the same
 * listener: which one wins is a race (a helper that exits before its launcher claims it), and a
 * start that loses it must find no first-time work on its way (docs/architecture.md, "The start
 * rehearsal at boot").
 */
public final class Reaper implements AutoCloseable {
    private static final int MAX_UNCLAIMED = 4096;

    private final LinuxLibC libc;
    private final NativeOs os;
    private final Listener listener;
    private final Object lock = new Object();
    /** Held while reaping, and by callers signalling a child: see {@link #whileUnreaped}. */
    private final Object reapLock = new Object();
    private final Map<Integer, CompletableFuture<ExitStatus>> claims = new HashMap<>();
    private record Reaped(ExitStatus exit, long atNanos) {
    }

    private final Map<Integer, Reaped> unclaimed = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Reaped> eldest) {
            return size() > MAX_UNCLAIMED;
        }
    };
    private final Thread thread;
    private long spawnGeneration;
    private volatile boolean running = true;

    /** Told of each reap, on the reaper's thread, after a claim's future was completed. */
    public interface Listener {
        /**
         * @param claimed whether someone waited for the exit; if not, it is an orphaned descendant
         *     of a job, or now and then a helper or job that exited before its launcher claimed it
         */
        void reaped(int pid, ExitStatus exit, boolean claimed);
    }

    public Reaper(NativeOs os, Listener listener) {
        this.os = os;
        this.libc = os.libc();
        this.listener = listener;
        this.thread = new Thread(this::run, "blivet-reaper");
        thread.setDaemon(true);
        thread.start();
    }

    /** Makes this process a child subreaper, so daemonized jobs are reparented to it. */
    public static void becomeSubreaper(NativeOs os) {
        if (os.libc().prctl(LinuxLibC.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
            throw new IllegalStateException("prctl(PR_SET_CHILD_SUBREAPER): " + os.strerror(os.errno()));
        }
    }

    /** Call after each spawn: wakes the reaper if it was idle with no children. */
    public void childSpawned() {
        synchronized (lock) {
            spawnGeneration++;
            lock.notifyAll();
        }
    }

    /**
     * The exit of {@code pid}, now or when it comes. Each pid is claimed once.
     *
     * @param startedAtNanos a {@link System#nanoTime()} taken before the process was started: an
     *     exit reaped earlier belonged to another process with the same pid
     */
    public CompletableFuture<ExitStatus> claim(int pid, long startedAtNanos) {
        synchronized (lock) {
            Reaped done = unclaimed.remove(pid);
            if (done != null && done.atNanos - startedAtNanos >= 0) {
                return CompletableFuture.completedFuture(done.exit);
            }
            CompletableFuture<ExitStatus> claim = claims.get(pid); // no lambda to link: the rehearsal's claims may all have found their exit already
            if (claim == null) {
                claim = new CompletableFuture<>();
                claims.put(pid, claim);
            }
            return claim;
        }
    }

    /** Whether someone waits for {@code pid}'s exit: it is a job's process or a helper already. */
    public boolean claimed(int pid) {
        synchronized (lock) {
            return claims.containsKey(pid);
        }
    }

    private void run() {
        IntByReference status = new IntByReference();
        Pointer info = Memory.allocateDirect(os.runtime(), LinuxLibC.SIGINFO_SIZE);
        while (running) {
            long generation;
            synchronized (lock) {
                generation = spawnGeneration;
            }
            info.putInt(LinuxLibC.SIGINFO_PID_OFFSET, 0);
            if (libc.waitid(LinuxLibC.P_ALL, 0, info, LinuxLibC.WEXITED | LinuxLibC.WNOWAIT) != 0) {
                int errno = os.errno();
                if (errno == LinuxLibC.ECHILD) {
                    awaitSpawnAfter(generation);
                } else if (errno != LinuxLibC.EINTR) {
                    throw new IllegalStateException("waitid: " + os.strerror(errno));
                }
                continue;
            }
            int pid = info.getInt(LinuxLibC.SIGINFO_PID_OFFSET);
            int reaped;
            synchronized (reapLock) {
                reaped = libc.waitpid(pid, status, 0);
            }
            if (reaped == pid) {
                deliver(pid, ExitStatus.decode(status.intValue()));
            }
        }
    }

    /**
     * Runs {@code action} while {@code pid} is a child of ours that has not been reaped (alive, or
     * a zombie): within it, signalling the pid, or a process group the pid is a member of, cannot
     * reach a process that merely reused the number.
     *
     * @return whether the action ran
     */
    public boolean whileUnreaped(int pid, Runnable action) {
        Pointer info = Memory.allocateDirect(os.runtime(), LinuxLibC.SIGINFO_SIZE);
        synchronized (reapLock) {
            if (libc.waitid(LinuxLibC.P_PID, pid, info, LinuxLibC.WEXITED | LinuxLibC.WNOHANG | LinuxLibC.WNOWAIT) != 0) {
                return false; // ECHILD: reaped already, or not our child (yet)
            }
            action.run();
            return true;
        }
    }

    private void awaitSpawnAfter(long generation) {
        synchronized (lock) {
            while (running && spawnGeneration == generation) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private void deliver(int pid, ExitStatus exit) {
        Reaped reaped = new Reaped(exit, System.nanoTime()); // kept only if unclaimed; made always, see the class comment
        CompletableFuture<ExitStatus> claim;
        synchronized (lock) {
            claim = claims.remove(pid);
            if (claim == null) {
                unclaimed.put(pid, reaped);
            }
        }
        if (claim != null) {
            claim.complete(exit);
        }
        listener.reaped(pid, exit, claim != null);
    }

    @Override
    public void close() {
        running = false;
        synchronized (lock) {
            lock.notifyAll();
        }
    }
}
