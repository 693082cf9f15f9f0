package dev.blivet.daemon.launch;

/**
 * The read end of a notify-fd job's pipe after readiness: kept open so the job may write to its
 * notify fd again (a closed pipe would kill it with SIGPIPE), and emptied so it never blocks.
 */
public final class DrainedPipe implements NotifyWatcher.Source {
    private final NativeOs os;
    private final int fd;
    private final byte[] sink = new byte[4096];
    private boolean ended;

    public DrainedPipe(NativeOs os, int fd) {
        this.os = os;
        this.fd = fd;
    }

    @Override
    public int fd() {
        return fd;
    }

    /** One read per wake-up: poll says when there is more. What the job writes is no news to anyone. */
    @Override
    public boolean drain() {
        ended = os.libc().read(fd, sink, sink.length) == 0;
        return false;
    }

    /** The job closed its end (EOF stays readable forever): nothing more will come. */
    @Override
    public boolean finished() {
        return ended;
    }

    @Override
    public void close() {
        os.close(fd);
    }
}
