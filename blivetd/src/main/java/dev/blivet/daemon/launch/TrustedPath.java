package dev.blivet.daemon.launch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import jnr.constants.platform.OpenFlags;
import jnr.posix.FileStat;

/**
 * The trusted-path rule on blivetd's side: a path named by a job (or the jobs directory) is
 * reached without following a symlink in ANY of its components. blivetd runs as root; if one
 * component could be a symlink, whoever can write the directory holding it could point root's
 * open, read or unlink anywhere (issue 8, attack 1: a directory swapped for a symlink with
 * renameat2 RENAME_EXCHANGE while root removes a pidfile). O_NOFOLLOW alone guards only the last
 * component.
 *
 * <p>A directory is opened with openat2(2) and RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, which
 * the kernel checks atomically for the whole path. A kernel without openat2 (before 5.6: ENOSYS)
 * gets the equivalent walk: from "/", each component opened with openat(O_PATH | O_NOFOLLOW) on
 * the previous directory's fd and refused unless that fd is a directory; each step holds the
 * directory it came from, so a rename elsewhere cannot redirect it. Files are then opened
 * relative to the directory fd with O_NOFOLLOW. Every fd is O_CLOEXEC from birth and closed by
 * its opener in a finally block.
 *
 * <p>Paths must be absolute and normalized (no ".", "..", or empty component): ".." would
 * leave a checked directory for one that was never checked.
 */
public final class TrustedPath {
    /** A path the rule refuses, or one that cannot be opened; the message names the path. */
    public static final class Refused extends IOException {
        private final int errno;

        Refused(String message, int errno) {
            super(message);
            this.errno = errno;
        }

        /** The errno behind the refusal, 0 when the path itself is malformed. */
        public int errno() {
            return errno;
        }

        public boolean notFound() {
            return errno == LinuxLibC.ENOENT;
        }
    }

    private static final int O_NOFOLLOW = OpenFlags.O_NOFOLLOW.intValue();
    private static final int O_DIRECTORY = OpenFlags.O_DIRECTORY.intValue();
    private static final int DIRECTORY_FLAGS = LinuxLibC.O_PATH | O_DIRECTORY | LinuxLibC.O_CLOEXEC;
    private static final boolean HAS_OPENAT2_NUMBER = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64", "aarch64" -> true;
        default -> false; // another number table: the walk is as safe, only slower
    };

    private final NativeOs os;
    private final boolean tryOpenat2;

    private TrustedPath(NativeOs os, boolean tryOpenat2) {
        this.os = os;
        this.tryOpenat2 = tryOpenat2 && HAS_OPENAT2_NUMBER;
    }

    /** openat2 where the kernel has it, the walk where it does not. */
    public static TrustedPath of(NativeOs os) {
        return new TrustedPath(os, true);
    }

    /** Tests only: always the walk, so that the fallback is tested on a kernel with openat2. */
    static TrustedPath walkOnly(NativeOs os) {
        return new TrustedPath(os, false);
    }

    public NativeOs os() {
        return os;
    }

    /** A path through an open fd, for the JDK's file APIs: /proc/self/fd/N names that very file. */
    public static Path viaFd(int fd) {
        return Path.of("/proc/self/fd", Integer.toString(fd));
    }

    /**
     * Opens the directory {@code path} by the rule.
     *
     * @return an O_PATH | O_DIRECTORY | O_CLOEXEC fd; the caller closes it
     */
    public int openDirectory(String path) throws Refused {
        checkForm(path);
        return open(path, path);
    }

    /**
     * Opens the directory that holds the file {@code path} by the rule; a refusal names the file.
     *
     * @return an O_PATH | O_DIRECTORY | O_CLOEXEC fd; the caller closes it
     */
    public int openParent(String path) throws Refused {
        checkFile(path);
        return open(Path.of(path).getParent().toString(), path);
    }

    /** @param subject what the caller asked for, which every refusal names first */
    private int open(String dir, String subject) throws Refused {
        if (tryOpenat2) {
            int fd = openat2(dir);
            if (fd >= 0) {
                return fd;
            }
            int errno = os.errno();
            if (errno != LinuxLibC.ENOSYS) {
                throw refusal(subject, subject, errno);
            }
        }
        return walk(dir, subject);
    }

    /**
     * Opens the file {@code path}: its directory by the rule, then the last component with
     * {@code flags | O_NOFOLLOW | O_CLOEXEC}. Pass O_NONBLOCK where a FIFO could stall the open.
     *
     * @return the fd; the caller closes it and checks what it is with fstat
     */
    public int openFile(String path, int flags) throws Refused {
        int dir = openParent(path);
        Path p = Path.of(path);
        try {
            return openIn(dir, p.getParent().toString(), p.getFileName().toString(), flags);
        } finally {
            os.close(dir);
        }
    }

    /** Opens {@code name} inside the directory fd {@code dir} (which {@code dirPath} names, for messages). */
    public int openIn(int dir, String dirPath, String name, int flags) throws Refused {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
            throw new Refused(dirPath + ": " + name + " is not a file name", 0);
        }
        int fd = os.libc().openat(dir, name, flags | O_NOFOLLOW | LinuxLibC.O_CLOEXEC, 0);
        if (fd < 0) {
            String full = dirPath.endsWith("/") ? dirPath + name : dirPath + "/" + name;
            throw refusal(full, full, os.errno());
        }
        return fd;
    }

    /** st_dev and st_ino of {@code name} in {@code dir} without following it, or null if there is none. */
    public FileId idAt(int dir, String name) {
        byte[] stat = new byte[LinuxLibC.STAT_BUFFER_SIZE];
        if (os.libc().fstatat(dir, name, stat, LinuxLibC.AT_SYMLINK_NOFOLLOW) != 0) {
            return null;
        }
        ByteBuffer buffer = ByteBuffer.wrap(stat).order(ByteOrder.nativeOrder());
        return new FileId(buffer.getLong(0), buffer.getLong(8));
    }

    /** The path must name a file: absolute, normalized, not "/". */
    public static void checkFile(String path) throws Refused {
        checkForm(path);
        if (path.equals("/")) {
            throw new Refused("/ is a directory, not a file", 0);
        }
    }

    private static void checkForm(String path) throws Refused {
        if (path == null || path.isEmpty() || !path.startsWith("/") || path.indexOf('\0') >= 0
                || !Path.of(path).normalize().toString().equals(path)) {
            throw new Refused(path + " is not an absolute, normalized path (no \".\", \"..\" or \"//\")", 0);
        }
    }

    private int openat2(String path) {
        ByteBuffer how = ByteBuffer.allocate(LinuxLibC.OPEN_HOW_SIZE).order(ByteOrder.nativeOrder());
        how.putLong(0, DIRECTORY_FLAGS);
        how.putLong(8, 0);
        how.putLong(16, LinuxLibC.RESOLVE_NO_SYMLINKS | LinuxLibC.RESOLVE_NO_MAGICLINKS);
        return (int) os.libc().syscall(LinuxLibC.SYS_OPENAT2, LinuxLibC.AT_FDCWD, path, how.array(),
                LinuxLibC.OPEN_HOW_SIZE);
    }

    private int walk(String path, String subject) throws Refused {
        int fd = os.libc().openat(LinuxLibC.AT_FDCWD, "/", DIRECTORY_FLAGS, 0);
        if (fd < 0) {
            throw refusal(subject, "/", os.errno());
        }
        StringBuilder reached = new StringBuilder();
        for (Path component : Path.of(path)) {
            reached.append('/').append(component);
            int next = os.libc().openat(fd, component.toString(), LinuxLibC.O_PATH | O_NOFOLLOW | LinuxLibC.O_CLOEXEC, 0);
            int errno = os.errno();
            os.close(fd);
            if (next < 0) {
                throw refusal(subject, reached.toString(), errno);
            }
            // O_PATH | O_NOFOLLOW opens a symlink itself rather than failing: look at what came.
            FileStat stat = os.posix().fstat(next);
            if (!stat.isDirectory()) {
                os.close(next);
                throw refusal(subject, reached.toString(), stat.isSymlink() ? LinuxLibC.ELOOP : LinuxLibC.ENOTDIR);
            }
            fd = next;
        }
        return fd;
    }

    private Refused refusal(String path, String culprit, int errno) {
        String why = switch (errno) {
            case LinuxLibC.ELOOP -> path.equals(culprit)
                    ? "a symlink in its path (blivetd follows no symlink in any component)"
                    : culprit + " is a symlink (blivetd follows no symlink in any component)";
            case LinuxLibC.ENOTDIR -> culprit + " is not a directory";
            default -> (path.equals(culprit) ? "" : culprit + ": ") + os.strerror(errno);
        };
        return new Refused(path + ": " + why, errno);
    }
}
