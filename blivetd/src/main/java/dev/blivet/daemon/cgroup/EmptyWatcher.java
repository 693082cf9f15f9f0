package dev.blivet.daemon.cgroup;

import dev.blivet.daemon.Log;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Tells when a cgroup becomes empty, without polling: the kernel marks a change of
 * {@code cgroup.events} ("populated 0") as a modification, which one inotify fd reports for every
 * watched cgroup. One thread blocks in read(2) on it for all jobs. A watch is added, then the
 * file is read once, so an emptying that happened before the watch is not missed.
 */
final class EmptyWatcher {
    /** struct inotify_event: wd, mask, cookie, len, then len bytes of name (none for a file watch). */
    private static final int EVENT_HEADER = 16;
    private static final int BUFFER = 64 * 1024;

    private final CgroupDir.Native lib;
    private final Log log;
    private final int inotifyFd;
    private final Object lock = new Object();
    /** Pending callbacks by watch descriptor, with the directory to re-read. */
    private final Map<Integer, Watch> watches = new HashMap<>();

    private record Watch(CgroupDir dir, List<Runnable> then) {
    }

    EmptyWatcher(CgroupDir.Native lib, Log log) throws IOException {
        this.lib = lib;
        this.log = log;
        this.inotifyFd = lib.libc().inotify_init1(CgroupLibC.IN_CLOEXEC);
        if (inotifyFd < 0) {
            throw new CgroupException("inotify_init1: " + lib.strerror(lib.errno()), lib.errno());
        }
        Thread thread = new Thread(this::run, "blivet-cgroup-watch");
        thread.setDaemon(true); // blocked in read(2) for blivetd's life; nothing to flush at exit
        thread.start();
    }

    /**
     * Runs {@code then} once {@code dir} holds no process (at once, on this thread, if it holds
     * none now; else on the watcher's thread). {@code dir} must stay open until then has run.
     */
    void whenEmpty(CgroupDir dir, Runnable then) throws IOException {
        int wd;
        synchronized (lock) {
            // Through our verified fd: the watch is on the very directory we hold.
            wd = lib.libc().inotify_add_watch(inotifyFd, "/proc/self/fd/" + dir.fd() + "/cgroup.events",
                    CgroupLibC.IN_MODIFY);
            if (wd < 0) {
                throw new CgroupException("inotify_add_watch " + dir.path().resolve("cgroup.events") + ": "
                        + lib.strerror(lib.errno()), lib.errno());
            }
            Watch watch = watches.computeIfAbsent(wd, key -> new Watch(dir, new ArrayList<>()));
            watch.then().add(then);
        }
        check(wd);
    }

    private void run() {
        byte[] buffer = new byte[BUFFER];
        while (true) {
            long n = lib.libc().read(inotifyFd, buffer, buffer.length);
            if (n < 0) {
                if (lib.errno() == CgroupLibC.EINTR) {
                    continue;
                }
                log.error("cgroup watcher: read: " + lib.strerror(lib.errno()));
                return;
            }
            ByteBuffer events = ByteBuffer.wrap(buffer, 0, (int) n).order(ByteOrder.nativeOrder());
            while (events.remaining() >= EVENT_HEADER) {
                int wd = events.getInt();
                int mask = events.getInt();
                events.getInt(); // cookie
                int len = events.getInt();
                events.position(events.position() + len);
                if ((mask & CgroupLibC.IN_IGNORED) != 0) {
                    fire(wd, false); // the cgroup was removed: nothing is left in it
                } else {
                    check(wd);
                }
            }
        }
    }

    /** Re-reads cgroup.events of the watch's cgroup and fires its callbacks if it is empty. */
    private void check(int wd) {
        Watch watch;
        synchronized (lock) {
            watch = watches.get(wd);
        }
        if (watch == null) {
            return;
        }
        boolean empty;
        try {
            empty = !watch.dir().populated();
        } catch (IOException e) {
            empty = true; // the directory is gone: so are its processes
        }
        if (empty) {
            fire(wd, true);
        }
    }

    private void fire(int wd, boolean removeWatch) {
        Watch watch;
        synchronized (lock) {
            watch = watches.remove(wd);
            if (watch != null && removeWatch) {
                lib.libc().inotify_rm_watch(inotifyFd, wd);
            }
        }
        if (watch != null) {
            watch.then().forEach(Runnable::run);
        }
    }
}
