package dev.blivet.daemon.launch;

import java.util.ArrayList;
import java.util.Arrays;
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
        /** The fd to wait on now for readability (or hang-up), or -1; read on the loop thread. */
        int fd();

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
    /** Read buffer of the tasks stepped on this loop: they never read at the same time. */
    private final byte[] buffer = new byte[4096];
    private Pointer pollfds;
    private int slots;
    /** Who owns pollfds[i] (index 0, the wake pipe, none), kept between turns: no allocation per turn. */
    private Task[] owners;
    private final List<Task> stepping = new ArrayList<>();
    private volatile boolean running = true;

    LaunchLoop(NativeOs os) {
        this(os, "blivet-launch");
    }

    LaunchLoop(NativeOs os, String threadName) {
        this.os = os;
        if (os.libc().pipe2(wakePipe, LinuxLibC.O_CLOEXEC | LinuxLibC.O_NONBLOCK) != 0) {
            throw new IllegalStateException("pipe2: " + os.strerror(os.errno()));
        }
        this.slots = INITIAL_SLOTS;
        this.pollfds = Memory.allocateDirect(os.runtime(), POLLFD_SIZE * slots);
        this.owners = new Task[slots];
        // Created once, here: nothing on the start path ever creates a thread, so a start at the
        // task limit fails on its own (posix_spawn's EAGAIN) and takes nothing else with it.
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** The read buffer for tasks of this loop, on this loop's thread only. */
    byte[] buffer() {
        return buffer;
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
        List<Task> dueNow = stepping;
        dueNow.addAll(due);
        due.clear();
        for (Task task : dueNow) {
            if (step(task)) {
                tasks.remove(task);
            }
        }
        dueNow.clear();
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
        ensureSlots(tasks.size() + 1);
        putPollfd(0, wakePipe[0]);
        int count = 1;
        long nearest = Long.MAX_VALUE;
        long now = System.nanoTime();
        for (Task task : tasks) {
            int fd = task.fd();
            if (fd >= 0) {
                putPollfd(count, fd);
                owners[count++] = task;
            }
            long wakeAt = task.wakeAt();
            if (wakeAt != Long.MAX_VALUE) {
                nearest = Math.min(nearest, Math.max(0, wakeAt - now));
            }
        }
        int millis = nearest == Long.MAX_VALUE ? -1
                : (int) Math.min(Integer.MAX_VALUE, (nearest + 999_999) / 1_000_000);
        int n = os.libc().poll(pollfds, count, millis);
        if (n > 0) {
            for (int i = 1; i < count; i++) {
                if (pollfds.getShort((long) i * POLLFD_SIZE + 6) != 0) {
                    due.add(owners[i]);
                }
            }
        } // else timeout or EINTR: the next turn looks at the deadlines
        Arrays.fill(owners, 1, count, null); // finished tasks must not stay reachable from here
    }

    private void putPollfd(int index, int fd) {
        pollfds.putInt((long) index * POLLFD_SIZE, fd);
        pollfds.putShort((long) index * POLLFD_SIZE + 4, LinuxLibC.POLLIN);
        pollfds.putShort((long) index * POLLFD_SIZE + 6, (short) 0);
    }

    private void ensureSlots(int needed) {
        if (needed > slots) {
            int grown = Math.max(needed, slots * 2);
            pollfds = Memory.allocateDirect(os.runtime(), (long) POLLFD_SIZE * grown);
            owners = new Task[grown];
            slots = grown;
        }
    }

    @Override
    public void close() {
        running = false;
        wake();
    }
}
