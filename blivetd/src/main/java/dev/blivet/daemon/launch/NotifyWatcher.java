package dev.blivet.daemon.launch;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Reads the sd-notify sockets of running jobs as datagrams arrive, on one thread blocked in
 * poll(2). A job that keeps sending STATUS= would otherwise block once its socket's queue is
 * full. The watcher also closes sockets handed back to it, so no fd is closed while polled.
 */
public final class NotifyWatcher implements AutoCloseable {
    private final NativeOs os;
    private final Consumer<SdNotifySocket> onMessage;
    private final int[] wakePipe = new int[2];
    private final Object lock = new Object();
    private final Set<SdNotifySocket> watched = new LinkedHashSet<>();
    private final List<SdNotifySocket> toClose = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private final byte[] scratch = new byte[64];

    /**
     * @param onMessage called on the watcher thread after a socket received datagrams
     */
    public NotifyWatcher(NativeOs os, Consumer<SdNotifySocket> onMessage) {
        this.os = os;
        this.onMessage = onMessage;
        if (os.libc().pipe2(wakePipe, LinuxLibC.O_CLOEXEC | LinuxLibC.O_NONBLOCK) != 0) {
            throw new IllegalStateException("pipe2: " + os.strerror(os.errno()));
        }
        thread = new Thread(this::run, "blivet-notify");
        thread.setDaemon(true);
        thread.start();
    }

    public void watch(SdNotifySocket socket) {
        synchronized (lock) {
            watched.add(socket);
        }
        wake();
    }

    /** Stops watching and closes the socket (on the watcher thread, once it no longer polls it). */
    public void release(SdNotifySocket socket) {
        synchronized (lock) {
            watched.remove(socket);
            toClose.add(socket);
        }
        wake();
    }

    private void wake() {
        os.libc().write(wakePipe[1], new byte[] {1}, 1);
    }

    private void run() {
        while (running) {
            List<SdNotifySocket> sockets;
            synchronized (lock) {
                toClose.forEach(SdNotifySocket::close);
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
                    SdNotifySocket socket = sockets.get(i - 1);
                    socket.drain();
                    onMessage.accept(socket);
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        wake();
    }
}
