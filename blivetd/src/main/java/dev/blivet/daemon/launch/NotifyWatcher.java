package dev.blivet.daemon.launch;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Reads what running jobs send on their notification channels, on one thread blocked in poll(2):
 * sd-notify datagrams (a job that keeps sending STATUS= would otherwise block once its socket's
 * queue is full) and notify-fd pipes (whose read end must stay open, or the job's next write
 * kills it with SIGPIPE). The watcher also closes the sources handed back to it, so no fd is
 * closed while polled.
 */
public final class NotifyWatcher implements AutoCloseable {
    /** Something with an fd to drain when readable. */
    public interface Source {
        int fd();

        /**
         * Reads what is there; called on the watcher thread only.
         *
         * @return whether there is news for the consumer that it has not been told of yet: at most
         *     one announcement is in flight per source, so a source that never stops sending
         *     cannot fill the consumer's queue
         */
        boolean drain();

        /** Nothing more can come (EOF): the watcher stops watching and closes it. */
        default boolean finished() {
            return false;
        }

        void close();
    }
    private final NativeOs os;
    private final Consumer<Source> onMessage;
    private final int[] wakePipe = new int[2];
    private final Object lock = new Object();
    private final Set<Source> watched = new LinkedHashSet<>();
    private final List<Source> toClose = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    /** The wake pipe is closed (guarded by lock): a wake after that would write to whatever reuses its fd. */
    private boolean pipeClosed;
    private final byte[] scratch = new byte[64];

    /**
     * @param onMessage called on the watcher thread when a source has news (see {@link Source#drain})
     */
    public NotifyWatcher(NativeOs os, Consumer<Source> onMessage) {
        this.os = os;
        this.onMessage = onMessage;
        if (os.libc().pipe2(wakePipe, LinuxLibC.O_CLOEXEC | LinuxLibC.O_NONBLOCK) != 0) {
            throw new IllegalStateException("pipe2: " + os.strerror(os.errno()));
        }
        thread = new Thread(this::run, "blivet-notify");
        thread.setDaemon(true);
        thread.start();
    }

    public void watch(Source socket) {
        synchronized (lock) {
            watched.add(socket);
        }
        wake();
    }

    /**
     * Stops watching and closes the source (on the watcher thread, once it no longer polls it);
     * one the watcher already closed at EOF is not closed twice.
     */
    public void release(Source source) {
        synchronized (lock) {
            if (watched.remove(source)) {
                toClose.add(source);
            }
        }
        wake();
    }

    private void wake() {
        synchronized (lock) {
            if (!pipeClosed) {
                os.libc().write(wakePipe[1], new byte[] {1}, 1);
            }
        }
    }

    private void run() {
        while (running) {
            try {
                turn();
            } catch (VirtualMachineError | RuntimeException e) {
                // Every running job's notify channel depends on this thread: it outlives a failed
                // allocation, and the sources stay watched for the next turn.
            }
        }
        // Closed here, once nothing polls them: a supervisor that is closed and not the JVM
        // (blivetd's start rehearsal at boot) must not leave the pipe behind.
        synchronized (lock) {
            toClose.forEach(Source::close);
            toClose.clear();
            pipeClosed = true;
            os.close(wakePipe[0]);
            os.close(wakePipe[1]);
        }
    }

    /** One wake-up: closes what was released, polls, and drains what is readable. */
    private void turn() {
        List<Source> sockets;
        synchronized (lock) {
            toClose.forEach(Source::close);
            toClose.clear();
            sockets = new ArrayList<>(watched);
        }
        int[] fds = new int[sockets.size() + 1];
        fds[0] = wakePipe[0];
        for (int i = 0; i < sockets.size(); i++) {
            fds[i + 1] = sockets.get(i).fd();
        }
        Poller poller = new Poller(os, fds);
        poller.awaitAny();
        if (poller.isReady(0)) {
            while (os.libc().read(wakePipe[0], scratch, scratch.length) > 0) {
                // drained
            }
        }
        for (int i = 1; i < fds.length; i++) {
            if (poller.isReady(i)) {
                Source source = sockets.get(i - 1);
                boolean news = source.drain();
                if (source.finished()) {
                    boolean stillWatched;
                    synchronized (lock) {
                        stillWatched = watched.remove(source);
                    }
                    // One released meanwhile is in toClose, closed there: closed twice, the
                    // second close could hit whatever reused its fd number.
                    if (stillWatched) {
                        source.close();
                    }
                } else if (news) {
                    onMessage.accept(source);
                }
            }
        }
    }

    /** The wake pipe's fds, for NotifyWatcherTest to see them closed. */
    int[] wakePipeFds() {
        return wakePipe.clone();
    }

    @Override
    public void close() {
        running = false;
        wake();
    }
}
