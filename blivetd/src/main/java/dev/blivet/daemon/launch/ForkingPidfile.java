package dev.blivet.daemon.launch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import dev.blivet.common.Identity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import jnr.constants.platform.OpenFlags;

/**
 * Reads the pidfile a forking job's program wrote (readiness "forking"): blivetd only reads it,
 * never creates, writes, locks or removes it.
 *
 * <p>Why this cannot be turned against root, who reads a path a hostile job user may control:
 * for a job with a user other than root, every directory above the pidfile must be searchable by
 * that user (its uid, gid and groups against each directory's owner and mode), or the pidfile is
 * refused before it is looked at: root's answers (the file exists, whom it belongs to) must not
 * tell the user about places it cannot reach itself. Then the directory is reached by the {@link TrustedPath} rule (no symlink in any component) and the
 * name itself with O_PATH | O_NOFOLLOW, so nothing is followed and opening it has no side effect
 * (no FIFO blocks, no device is opened). On that O_PATH fd it must be a regular file owned by the
 * job's uid: the file is the job user's own claim, never another user's file that root could read
 * and the user could not. Only then is that very file reopened for reading (through
 * /proc/self/fd, so a rename meanwhile changes nothing) with O_NONBLOCK, and at most
 * {@link #MAX_CONTENT} bytes are read. Its content is never echoed in a message: only a pid
 * made of digits is used, and that pid is then checked to be a process of the job
 * ({@link ForkedDaemon}).
 */
final class ForkingPidfile {
    /** A pid is at most 7 digits (pid_max is at most 2^22): with a newline and spaces, 64 is plenty. */
    static final int MAX_CONTENT = 64;
    private static final int O_RDONLY = OpenFlags.O_RDONLY.intValue();
    /** st_uid, st_size, st_mtime and its nanoseconds: the same offsets in x86-64's and the generic struct stat. */
    private static final int UID_OFFSET_X86 = 28;
    private static final int UID_OFFSET_GENERIC = 24;
    private static final int SIZE_OFFSET = 48;
    private static final int MTIME_OFFSET = 88;
    private static final int MTIME_NSEC_OFFSET = 96;
    private static final boolean X86 = System.getProperty("os.arch").equals("amd64")
            || System.getProperty("os.arch").equals("x86_64");

    /** What a pidfile held at one moment. */
    sealed interface Read {
    }

    /** Not written yet, not changed since the start, or not a whole pid yet: look again later. */
    record NotYet(String why) implements Read {
    }

    /** A pid, to be checked against the job. */
    record Pid(int pid) implements Read {
    }

    /** A pidfile that can never be used (symlink, not a regular file, another user's). */
    record Refused(String why) implements Read {
    }

    /** The identity of the file under the pidfile's name: a start waits until it changes. */
    record Stamp(long dev, long ino, long size, long mtimeSec, long mtimeNsec) {
    }

    private final TrustedPath paths;

    ForkingPidfile(TrustedPath paths) {
        this.paths = paths;
    }

    /** What the name refers to now (not following it), or null if nothing: taken before the spawn. */
    Stamp stamp(String pidfile) {
        NativeOs os = paths.os();
        int dir = -1;
        try {
            dir = paths.openParent(pidfile);
            byte[] stat = new byte[LinuxLibC.STAT_BUFFER_SIZE];
            if (os.libc().fstatat(dir, Path.of(pidfile).getFileName().toString(), stat, LinuxLibC.AT_SYMLINK_NOFOLLOW)
                    != 0) {
                return null;
            }
            return stampOf(stat);
        } catch (TrustedPath.Refused e) {
            return null;
        } finally {
            os.close(dir);
        }
    }

    /**
     * Reads {@code pidfile} for a job whose processes run as {@code uid}, unless the file is still
     * the one {@code before} the start.
     */
    Read read(String pidfile, int uid, Identity identity, Stamp before) {
        if (identity != null && identity.uid() != 0) {
            String unreachable = unreachable(pidfile, identity);
            if (unreachable != null) {
                return new Refused("pidfile " + pidfile + ": the job's user (uid " + Integer.toUnsignedString(identity.uid())
                        + ") cannot search " + unreachable);
            }
        }
        NativeOs os = paths.os();
        Path path = Path.of(pidfile);
        int dir = -1;
        int handle = -1;
        int fd = -1;
        try {
            dir = paths.openParent(pidfile);
            handle = paths.openIn(dir, path.getParent().toString(), path.getFileName().toString(), LinuxLibC.O_PATH);
            byte[] stat = new byte[LinuxLibC.STAT_BUFFER_SIZE];
            if (os.libc().fstatat(handle, "", stat, LinuxLibC.AT_EMPTY_PATH) != 0) {
                return new NotYet(pidfile + ": " + os.strerror(os.errno()));
            }
            jnr.posix.FileStat kind = os.posix().fstat(handle);
            if (kind.isSymlink()) {
                return new Refused("pidfile " + pidfile + " is a symlink (blivetd follows no symlink in any component)");
            }
            if (!kind.isFile()) {
                return new Refused("pidfile " + pidfile + " is not a regular file");
            }
            int owner = ByteBuffer.wrap(stat).order(ByteOrder.nativeOrder()).getInt(X86 ? UID_OFFSET_X86 : UID_OFFSET_GENERIC);
            if (owner != uid) {
                return new Refused("pidfile " + pidfile + " is owned by uid " + Integer.toUnsignedString(owner)
                        + ", not by the job's uid " + Integer.toUnsignedString(uid));
            }
            if (stampOf(stat).equals(before)) {
                return new NotYet("pidfile " + pidfile + " was not written since the start");
            }
            fd = os.libc().openat(LinuxLibC.AT_FDCWD, TrustedPath.viaFd(handle).toString(),
                    O_RDONLY | LinuxLibC.O_NONBLOCK | LinuxLibC.O_CLOEXEC, 0);
            if (fd < 0) {
                return new NotYet(pidfile + ": " + os.strerror(os.errno()));
            }
            return parse(pidfile, Pidfiles.readAtMost(os, fd, MAX_CONTENT));
        } catch (TrustedPath.Refused e) {
            if (e.notFound()) {
                return new NotYet("pidfile " + pidfile + " does not exist");
            }
            return e.errno() == LinuxLibC.ELOOP || e.errno() == LinuxLibC.ENOTDIR || e.errno() == 0
                    ? new Refused("pidfile " + e.getMessage()) : new NotYet(e.getMessage());
        } finally {
            os.close(fd);
            os.close(handle);
            os.close(dir);
        }
    }

    /**
     * The first directory above {@code pidfile} that {@code identity} may not search, or null.
     * Read without following links; the trusted-path open that follows refuses any symlink.
     */
    static String unreachable(String pidfile, Identity identity) {
        Path dir = Path.of(pidfile).getParent();
        Path reached = dir.getRoot();
        java.util.List<Path> chain = new java.util.ArrayList<>();
        chain.add(reached);
        for (Path name : dir) {
            reached = reached.resolve(name);
            chain.add(reached);
        }
        for (Path each : chain) {
            try {
                Map<String, Object> unix = Files.readAttributes(each, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
                if (!searchable((Integer) unix.get("mode"), (Integer) unix.get("uid"), (Integer) unix.get("gid"), identity)) {
                    return each.toString();
                }
            } catch (IOException | RuntimeException e) {
                return each.toString();
            }
        }
        return null;
    }

    /** Whether a directory of this mode and ownership grants {@code identity} search (x) permission. */
    static boolean searchable(int mode, int owner, int group, Identity identity) {
        if ((mode & 0170000) != 0040000) {
            return true; // not a directory: the open says so
        }
        if (owner == identity.uid()) {
            return (mode & 0100) != 0;
        }
        boolean member = group == identity.gid();
        for (int g : identity.groups()) {
            member |= g == group;
        }
        return (mode & (member ? 010 : 01)) != 0;
    }

    /** Digits, optionally surrounded by white space; anything else is not (yet) a pid. */
    static Read parse(String pidfile, String content) {
        if (content == null) {
            return new NotYet("pidfile " + pidfile + " holds more than " + MAX_CONTENT + " bytes, not a pid");
        }
        String text = content.strip();
        if (text.isEmpty()) {
            return new NotYet("pidfile " + pidfile + " is empty");
        }
        if (text.length() > 7 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return new NotYet("pidfile " + pidfile + " does not hold a pid (decimal digits)");
        }
        return new Pid(Integer.parseInt(text));
    }

    private static Stamp stampOf(byte[] stat) {
        ByteBuffer b = ByteBuffer.wrap(stat).order(ByteOrder.nativeOrder());
        return new Stamp(b.getLong(0), b.getLong(8), b.getLong(SIZE_OFFSET), b.getLong(MTIME_OFFSET),
                b.getLong(MTIME_NSEC_OFFSET));
    }
}
