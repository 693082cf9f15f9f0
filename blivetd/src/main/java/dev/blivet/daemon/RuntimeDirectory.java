package dev.blivet.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The directory holding blivetd's socket and the jobs' notify sockets. Prepared before anything
 * creates files in it: a root blivetd makes it 0755 (every user may reach the socket), any
 * other 0700; an existing one must be ours (or root's) and not writable by others, or a local
 * user could plant a socket for our clients to talk to.
 */
final class RuntimeDirectory {
    private RuntimeDirectory() {
    }

    static void prepare(Path dir, int euid) throws IOException {
        if (dir == null) {
            return;
        }
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(euid == 0 ? "rwxr-xr-x" : "rwx------"));
            return;
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(dir + " is not a directory");
        }
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        // Sticky or not: in a directory others may write, they can plant a file at the name of a
        // future notify socket before blivetd binds it.
        boolean othersMayReplace = (mode & 0022) != 0;
        if ((owner != euid && owner != 0) || othersMayReplace) {
            throw new IOException("refusing to use " + dir + ": it belongs to uid " + owner
                    + (othersMayReplace ? " and others may create files in it (mode " + Integer.toOctalString(mode & 07777) + ")" : ""));
        }
    }
}
