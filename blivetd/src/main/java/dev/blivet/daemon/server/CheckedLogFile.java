package dev.blivet.daemon.server;

import dev.blivet.common.protocol.ErrorCode;
import dev.blivet.daemon.launch.FileId;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.launch.TrustedPath;
import java.nio.file.Path;
import jnr.constants.platform.OpenFlags;
import jnr.posix.FileStat;

/**
 * A job's output file, opened the way its owner could have: blivetd reads as root, so the path
 * is reached by the {@link TrustedPath} rule (no symlink in any component), opened O_NONBLOCK (a
 * FIFO planted under the name cannot stall the open) and the open file itself is checked: a
 * regular file, owned by the job's owner unless that is root. Reading and watching go through
 * /proc/self/fd, so swapping a name afterwards changes nothing. Without this, a user could start
 * a job with "stdout": "/etc/shadow" (or a path through a symlinked directory to it) and read it
 * with logs.
 */
final class CheckedLogFile implements AutoCloseable {
    private static final int READ_FLAGS = OpenFlags.O_RDONLY.intValue() | OpenFlags.O_NONBLOCK.intValue();

    private final NativeOs os;
    private final int dir;
    private final int fd;

    private CheckedLogFile(NativeOs os, int dir, int fd) {
        this.os = os;
        this.dir = dir;
        this.fd = fd;
    }

    /**
     * Null when the file does not exist yet (a job that has written nothing), and for a job of a
     * user other than root also when the path is not the very file the helper opened for the
     * job with its user's identity ({@code opened}, reached without a symlink): to that user every
     * such case looks like "nothing written yet".
     */
    static CheckedLogFile open(NativeOs os, String path, int ownerUid, FileId opened) {
        TrustedPath paths = TrustedPath.of(os);
        int dir = -1;
        int fd = -1;
        try {
            dir = paths.openParent(path);
            Path file = Path.of(path);
            fd = paths.openIn(dir, file.getParent().toString(), file.getFileName().toString(), READ_FLAGS);
            FileStat stat = os.posix().fstat(fd);
            if (ownerUid != 0 && (!stat.isFile() || stat.uid() != ownerUid || opened == null
                    || stat.dev() != opened.dev() || stat.ino() != opened.ino())) {
                return null; // as if it did not exist: see below
            }
            if (!stat.isFile()) {
                throw refused(path, "is not a regular file");
            }
            CheckedLogFile checked = new CheckedLogFile(os, dir, fd);
            dir = -1;
            fd = -1;
            return checked;
        } catch (TrustedPath.Refused e) {
            // blivetd opens as root, so for a job of another user every way the path can fail
            // (missing, a symlink on the way, a directory, someone else's file, a directory the
            // user cannot search) answers alike: telling them apart would tell that user about
            // paths it cannot look at itself.
            if (e.notFound() || ownerUid != 0) {
                return null;
            }
            throw new RequestException(ErrorCode.PERMISSION_DENIED, e.getMessage() + "; blivetd will not show it");
        } finally {
            os.close(fd);
            os.close(dir);
        }
    }

    private static RequestException refused(String path, String why) {
        return new RequestException(ErrorCode.PERMISSION_DENIED, path + " " + why + "; blivetd will not show it");
    }

    /** A path to the very file that was checked, whatever happens to its name. */
    Path readablePath() {
        return TrustedPath.viaFd(fd);
    }

    /** The directory that holds it, as reached by the rule: its changes wake a follower. */
    Path directoryPath() {
        return TrustedPath.viaFd(dir);
    }

    @Override
    public void close() {
        os.close(fd);
        os.close(dir);
    }
}
