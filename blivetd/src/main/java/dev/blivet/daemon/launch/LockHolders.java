package dev.blivet.daemon.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * Finds which process holds a lockfile, from /proc/locks, so a lock conflict can name it
 * ("lock conflict: /run/web.lock is held by pid 4242"). flock(2) itself does not say.
 */
final class LockHolders {
    private final Path procLocks;

    LockHolders(Path procLocks) {
        this.procLocks = procLocks;
    }

    OptionalInt holderOf(Path lockfile) {
        try {
            long dev = ((Number) Files.getAttribute(lockfile, "unix:dev")).longValue();
            long ino = ((Number) Files.getAttribute(lockfile, "unix:ino")).longValue();
            // /proc/locks names a file as MAJOR:MINOR:INODE, the device numbers in hex.
            String key = String.format("%02x:%02x:%d", major(dev), minor(dev), ino);
            List<String> lines = Files.readAllLines(procLocks);
            for (String line : lines) {
                // "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF"
                String[] fields = line.trim().split("\\s+");
                if (fields.length >= 6 && fields[1].equals("FLOCK") && fields[5].equals(key)) {
                    return OptionalInt.of(Integer.parseInt(fields[4]));
                }
            }
        } catch (IOException | NumberFormatException | UnsupportedOperationException e) {
            // the message just stays less precise
        }
        return OptionalInt.empty();
    }

    private static long major(long dev) {
        return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    }

    private static long minor(long dev) {
        return (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    }
}
