package dev.blivet.daemon.supervisor;

import dev.blivet.daemon.launch.DrainedPipe;
import dev.blivet.daemon.launch.FileId;
import dev.blivet.daemon.launch.LaunchResult;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.launch.NotifyWatcher;
import dev.blivet.daemon.launch.Pidfiles;
import dev.blivet.daemon.launch.SdNotifySocket;
import dev.blivet.daemon.launch.TrustedPath;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A run's channels in blivetd: drained by the {@link NotifyWatcher}, pidfiles removed by the trusted-path rule. */
public final class NativeRunChannels implements RunChannels {
    private final NativeOs os;
    private final TrustedPath paths;
    private final NotifyWatcher watcher;
    /** Who to tell when a socket received datagrams; written on the loop, read on the watcher thread. */
    private final Map<NotifyWatcher.Source, Runnable> listeners = new ConcurrentHashMap<>();

    public NativeRunChannels(NativeOs os) {
        this.os = os;
        this.paths = TrustedPath.of(os);
        this.watcher = new NotifyWatcher(os, source -> {
            Runnable listener = listeners.get(source);
            if (listener != null) {
                listener.run();
            }
        });
    }

    @Override
    public Held hold(LaunchResult.Started started, Runnable onStatus) {
        SdNotifySocket socket = started.notifySocket();
        DrainedPipe pipe = started.notifyFd() >= 0 ? new DrainedPipe(os, started.notifyFd()) : null;
        if (socket != null) {
            listeners.put(socket, onStatus);
            watcher.watch(socket);
        }
        if (pipe != null) {
            watcher.watch(pipe);
        }
        return new Held() {
            @Override
            public String status() {
                return socket == null ? null : socket.status();
            }

            @Override
            public void release() {
                if (pipe != null) {
                    watcher.release(pipe);
                }
                if (socket != null) {
                    listeners.remove(socket);
                    watcher.release(socket);
                }
            }
        };
    }

    @Override
    public void discard(LaunchResult.Started started) {
        os.close(started.notifyFd());
        if (started.notifySocket() != null) {
            started.notifySocket().close();
        }
    }

    @Override
    public void removePidfile(String pidfile, FileId written, int pid) {
        Pidfiles.removeIfOurs(paths, pidfile, written, pid, false);
    }

    @Override
    public void close() {
        watcher.close();
    }
}
