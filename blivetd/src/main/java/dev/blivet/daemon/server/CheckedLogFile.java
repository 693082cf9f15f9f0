package dev.blivet.daemon.server;

import dev.blivet.common.protocol.ErrorCode;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.supervisor.RequestException;
import java.nio.file.Path;
import jnr.constants.platform.OpenFlags;
import jnr.posix.FileStat;

/**
 * A job's output file, opened the way its owner could have: blivetd reads as root, so the path
 * is opened without following a final symlink and the open file itself is checked: a regular
 * file, owned by the job's owner unless that is root. Reading goes through /proc/self/fd, so
 * swapping the path afterwards changes nothing. Without this, a user could start a job with
 * "stdout": "/etc/shadow" (or a symlink to it) and read it with logs.
 */
final class CheckedLogFile implements AutoCloseable {
    private static final int O_CLOEXEC = 02000000;

    private final NativeOs os;
    private final int fd;

    private CheckedLogFile(NativeOs os, int fd) {
        this.os = os;
        this.fd = fd;
    }

    /** Null when the file does not exist yet (a job that has written nothing). */
    static CheckedLogFile open(NativeOs os, String path, int ownerUid) {
        int flags = OpenFlags.O_RDONLY.intValue() | OpenFlags.O_NOFOLLOW.intValue() | OpenFlags.O_NONBLOCK.intValue()
                | O_CLOEXEC;
        int fd = os.posix().open(path, flags, 0);
        if (fd < 0) {
            if (os.posix().errno() == jnr.constants.platform.Errno.ENOENT.intValue()) {
                return null;
            }
            throw refused(path, "cannot be opened without following a symlink: " + os.strerror(os.posix().errno()));
        }
        FileStat stat = os.posix().fstat(fd);
        if (!stat.isFile()) {
            os.close(fd);
            throw refused(path, "is not a regular file");
        }
        if (ownerUid != 0 && stat.uid() != ownerUid) {
            os.close(fd);
            throw refused(path, "belongs to uid " + stat.uid() + ", not to the job's owner (uid " + ownerUid + ")");
        }
        return new CheckedLogFile(os, fd);
    }

    private static RequestException refused(String path, String why) {
        return new RequestException(ErrorCode.PERMISSION_DENIED, path + " " + why + "; blivetd will not show it");
    }

    /** A path to the very file that was checked, whatever happens to its name. */
    Path readablePath() {
        return Path.of("/proc/self/fd", Integer.toString(fd));
    }

    @Override
    public void close() {
        os.close(fd);
    }
}
