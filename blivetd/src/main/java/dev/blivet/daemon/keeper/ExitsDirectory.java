package dev.blivet.daemon.keeper;

import dev.blivet.daemon.launch.LinuxLibC;
import dev.blivet.daemon.launch.NativeOs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import jnr.constants.platform.OpenFlags;

/**
 * The directory where the keeper writes exit records: {@code exits} beside the control socket,
 * ours alone (0700), since a record decides what blivetd believes about a job's end. An existing
 * one must be a real directory of ours that nobody else may enter.
 */
public final class ExitsDirectory {
    public static final String NAME = "exits";

    private ExitsDirectory() {
    }

    public static Path of(Path socket) {
        return socket.resolveSibling(NAME);
    }

    /** Makes or checks {@code dir}, then opens it: the fd the keeper writes through. */
    public static int open(NativeOs os, Path dir, int euid) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(dir + " is not a directory");
        }
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if (owner != euid || (mode & 077) != 0) {
            throw new IOException("refusing " + dir + " for exit records: owned by uid " + owner + ", mode "
                    + Integer.toOctalString(mode & 07777) + " (it must be uid " + euid + "'s, mode 700)");
        }
        int fd = os.libc().openat(LinuxLibC.AT_FDCWD, dir.toString(), OpenFlags.O_RDONLY.intValue()
                | OpenFlags.O_DIRECTORY.intValue() | OpenFlags.O_NOFOLLOW.intValue() | LinuxLibC.O_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("cannot open " + dir + ": " + os.strerror(os.errno()));
        }
        return fd;
    }
}
