package dev.blivet.daemon.launch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** Removing a job's pidfile without ever removing another process's. */
public final class Pidfiles {
    private Pidfiles() {
    }

    /**
     * Removes the pidfile if it names {@code pid}, or if it is empty and {@code emptyIsOurs} (a
     * start that created it died before writing), and only if it belongs to {@code ownerUid}, the
     * job's user: a directory swapped for a symlink cannot point root's unlink elsewhere. Symlinks
     * are never followed.
     */
    public static void removeIfOurs(String pidfile, int pid, boolean emptyIsOurs, int ownerUid) {
        if (pidfile == null) {
            return;
        }
        Path path = Path.of(pidfile);
        try {
            if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)
                    || (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS) != ownerUid) {
                return;
            }
            String content = Files.readString(path, StandardCharsets.US_ASCII).trim();
            if (content.equals(Integer.toString(pid)) || (content.isEmpty() && emptyIsOurs)) {
                Files.delete(path);
            }
        } catch (IOException e) {
            // unreadable or already gone: not ours to remove
        }
    }
}
