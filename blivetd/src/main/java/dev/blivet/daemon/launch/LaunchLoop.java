package dev.blivet.daemon.launch;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * The one thread on which every pending start waits: a poll(2) over the fds of all of them
 * (report pipes, notify-fd pipes, sd-notify sockets) plus a wake pipe, with the nearest of their
 * deadlines as its timeout. A start that waits for readiness for a day costs this loop a slot in
 * its poll set, never a thread, so no user's slow starts can hold back anyone else's.
 *
 * <p>Tasks run only on this thread, one step at a time; a step never blocks. Other threads reach
 * a task only through {@link #poke}, e.g. when the reaper collects an exit it waits for.
 */
final class LaunchLoop implements AutoCloseable {
    private static final int POLLFD_SIZE = 8; // struct pollfd { int fd; short events; short revents; }
    /** Room for this many fds before the poll set is reallocated: allocation is kept off the hot path. */
    private static final int INITIAL_SLOTS = 256;

    /** One pending start, as the loop sees it. */
    interface Task {
        /** The fds to wait on now, each for readability (or hang-up); read on the loop thread. */
        int[] fds();

        /** When to step even if no fd fires ({@link System#nanoTime()}), or Long.MAX_VALUE. */
        long wakeAt();

        /** Makes what progress it can without blocking; true once finished. */
        boolean step();

        /**
         * A step threw (a bug, or the JVM out of memory or threads): the task must finish without
         * blocking and leave nothing behind; true once finished.
         */
        boolean crashed(Throwable error);
    }

    private final NativeOs os;
    private final int[] wakePipe = new int[2];
    private final byte[] scratch = new byte[64];
    private final Object lock = new Object();
    private final List<Task> submitted = new ArrayList<>();
    private final Set<Task> poked = new LinkedHashSet<>();
    /** Loop thread only. */
    private final Set<Task> tasks = new LinkedHashSet<>();
    private final Set<Task> due = new LinkedHashSet<>();
    private final Thread thread;
    private Pointer pollfds;
    private int slots;
    private volatile boolean running = true;

    LaunchLoop(NativeOs os) {
        this.os = os;
        if (os.libc().pipe2(wakePipe, LinuxLibC.O_CLOEXEC | LinuxLibC.O_NONBLOCK) != 0) {
            throw new IllegalStateException("pipe2: " + os.strerror(os.errno()));
        }
        this.slots = INITIAL_SLOTS;
        this.pollfds = Memory.allocateDirect(os.runtime(), POLLFD_SIZE * slots);
        // Created once, here: nothing on the start path ever creates a thread, so a start at the
        // task limit fails on its own (posix_spawn's EAGAIN) and takes nothing else with it.
        this.thread = new Thread(this::run, "blivet-launch");
        thread.setDaemon(true);
        thread.start();
    }

    /** Hands a new task to the loop, which steps it at once. */
    void submit(Task task) {
        synchronized (lock) {
            submitted.add(task);
        }
        wake();
    }

    /** Asks the loop to step {@code task} soon; harmless once it has finished. Any thread. */
    void poke(Task task) {
        synchronized (lock) {
            poked.add(task);
        }
        wake();
    }

    private void wake() {
        os.libc().write(wakePipe[1], new byte[] {1}, 1); // a full pipe (EAGAIN) already wakes the loop
    }

    private void run() {
        while (running) {
            try {
                turn();
            } catch (OutOfMemoryError | StackOverflowError | RuntimeException e) {
                // The loop itself must outlive a failed allocation: every pending start depends on it.
                // Its tasks are still in the set and get stepped again on the next turn.
            }
        }
    }

    /** Steps whatever is due, then waits for an fd, a poke or the nearest deadline. */
    private void turn() {
        while (os.libc().read(wakePipe[0], scratch, scratch.length) > 0) {
            // drained: the pokes and submissions are in the sets
        }
        synchronized (lock) {
            for (Task task : submitted) {
                tasks.add(task);
                due.add(task);
            }
            submitted.clear();
            for (Task task : poked) {
                if (tasks.contains(task)) {
                    due.add(task);
                }
            }
            poked.clear();
        }
        long now = System.nanoTime();
        for (Task task : tasks) {
            if (task.wakeAt() - now <= 0) {
                due.add(task);
            }
        }
        for (Task task : List.copyOf(due)) {
            due.remove(task);
            if (step(task)) {
                tasks.remove(task);
            }
        }
        waitForEvents();
    }

    private static boolean step(Task task) {
        try {
            return task.step();
        } catch (OutOfMemoryError | StackOverflowError | RuntimeException | LinkageError e) {
            try {
                return task.crashed(e);
            } catch (OutOfMemoryError | StackOverflowError | RuntimeException | LinkageError again) {
                return true; // nothing more can be done for it
            }
        }
    }

    private void waitForEvents() {
        List<Task> owners = new ArrayList<>();
        List<Integer> fds = new ArrayList<>();
        fds.add(wakePipe[0]);
        owners.add(null);
        long nearest = Long.MAX_VALUE;
        long now = System.nanoTime();
        for (Task task : tasks) {
            for (int fd : task.fds()) {
                if (fd >= 0) {
                    fds.add(fd);
                    owners.add(task);
                }
            }
            long wakeAt = task.wakeAt();
            if (wakeAt != Long.MAX_VALUE) {
                nearest = Math.min(nearest, Math.max(0, wakeAt - now));
            }
        }
        ensureSlots(fds.size());
        for (int i = 0; i < fds.size(); i++) {
            pollfds.putInt((long) i * POLLFD_SIZE, fds.get(i));
            pollfds.putShort((long) i * POLLFD_SIZE + 4, LinuxLibC.POLLIN);
            pollfds.putShort((long) i * POLLFD_SIZE + 6, (short) 0);
        }
        int millis = nearest == Long.MAX_VALUE ? -1
                : (int) Math.min(Integer.MAX_VALUE, (nearest + 999_999) / 1_000_000);
        int n = os.libc().poll(pollfds, fds.size(), millis);
        if (n <= 0) {
            return; // timeout or EINTR: the next turn looks at the deadlines
        }
        for (int i = 1; i < fds.size(); i++) {
            if (pollfds.getShort((long) i * POLLFD_SIZE + 6) != 0) {
                due.add(owners.get(i));
            }
        }
    }

    private void ensureSlots(int needed) {
        if (needed > slots) {
            int grown = Math.max(needed, slots * 2);
            pollfds = Memory.allocateDirect(os.runtime(), (long) POLLFD_SIZE * grown);
            slots = grown;
        }
    }

    @Override
    public void close() {
        running = false;
        wake();
    }
}
