package dev.blivet.daemon.launch;

import java.nio.charset.StandardCharsets;
import jnr.constants.platform.OpenFlags;
import jnr.posix.FileStat;

/**
 * Removing a job's pidfile without ever removing another file.
 *
 * <p>Why this cannot be turned against root: the pidfile's directory is reached by the
 * {@link TrustedPath} rule (no symlink in any component) and stays pinned by its fd for the whole
 * removal, so root can only ever remove an entry of that very directory, whatever is renamed
 * meanwhile. Within it, the name is opened without following it and the open file must be the
 * very file blivet-spawn wrote (same st_dev and st_ino), a regular file naming the job's pid.
 * Just before unlinkat, fstatat checks that the name still refers to that file. In the residual
 * window between that fstatat and unlinkat, only someone who may write that directory can put
 * another entry under the name (in a sticky directory, only that entry's owner), so root never
 * removes anything that the renamer could not have removed itself.
 */
public final class Pidfiles {
    /** A pid is at most 7 digits (pid_max is at most 2^22) plus a newline: more is not ours. */
    private static final int MAX_CONTENT = 16;
    private static final int READ_FLAGS = OpenFlags.O_RDONLY.intValue() | OpenFlags.O_NONBLOCK.intValue();

    private Pidfiles() {
    }

    /**
     * Removes the pidfile only if its name still refers to {@code written}, the very file
     * blivet-spawn opened, and it names {@code pid} (or is empty and {@code emptyIsOurs}: a start
     * that opened it died before writing). Without {@code written} nothing is removed.
     *
     * @return whether it was removed (anything else, including errors, leaves the name alone)
     */
    public static boolean removeIfOurs(TrustedPath paths, String pidfile, FileId written, int pid, boolean emptyIsOurs) {
        if (pidfile == null || written == null) {
            return false;
        }
        NativeOs os = paths.os();
        int dir = -1;
        int fd = -1;
        try {
            dir = paths.openParent(pidfile);
            java.nio.file.Path path = java.nio.file.Path.of(pidfile);
            String dirPath = path.getParent().toString();
            String name = path.getFileName().toString();
            fd = paths.openIn(dir, dirPath, name, READ_FLAGS);
            FileStat stat = os.posix().fstat(fd);
            if (!stat.isFile() || stat.dev() != written.dev() || stat.ino() != written.ino()) {
                return false;
            }
            String read = readAtMost(os, fd, MAX_CONTENT);
            String content = read == null ? "(too long)" : read.trim();
            if (!content.equals(Integer.toString(pid)) && !(content.isEmpty() && emptyIsOurs)) {
                return false;
            }
            if (!written.equals(paths.idAt(dir, name))) {
                return false; // renamed since we opened it: the name is someone else's now
            }
            return os.libc().unlinkat(dir, name, 0) == 0;
        } catch (TrustedPath.Refused e) {
            return false; // unreachable by the rule or already gone: not ours to remove
        } finally {
            os.close(fd);
            os.close(dir);
        }
    }

    /**
     * At most {@code max} bytes of {@code fd} as ASCII, or null when it holds more: a pidfile
     * grown large is not a pid. Shared with {@link ForkingPidfile}.
     */
    static String readAtMost(NativeOs os, int fd, int max) {
        byte[] buffer = new byte[max + 1];
        int filled = 0;
        while (filled < buffer.length) {
            byte[] chunk = new byte[buffer.length - filled];
            long n = os.libc().read(fd, chunk, chunk.length);
            if (n < 0 && os.errno() == LinuxLibC.EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            System.arraycopy(chunk, 0, buffer, filled, (int) n);
            filled += (int) n;
        }
        return filled > max ? null : new String(buffer, 0, filled, StandardCharsets.US_ASCII);
    }
}
