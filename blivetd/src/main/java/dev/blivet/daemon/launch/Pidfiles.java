package dev.blivet.daemon.launch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** Removing a job's pidfile without ever removing another file. */
public final class Pidfiles {
    private Pidfiles() {
    }

    /**
     * Removes the pidfile only if its name still refers to {@code written}, the very file
     * blivet-spawn opened, and it names {@code pid} (or is empty and {@code emptyIsOurs}: a start
     * that opened it died before writing). Without {@code written} nothing is removed.
     */
    public static void removeIfOurs(String pidfile, FileId written, int pid, boolean emptyIsOurs) {
        if (pidfile == null || written == null) {
            return;
        }
        Path path = Path.of(pidfile);
        try {
            if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)
                    || ((Number) Files.getAttribute(path, "unix:dev", LinkOption.NOFOLLOW_LINKS)).longValue() != written.dev()
                    || ((Number) Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue() != written.ino()) {
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
