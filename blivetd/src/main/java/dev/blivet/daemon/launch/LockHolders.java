package dev.blivet.daemon.launch;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Finds which process holds a lockfile, from /proc/locks, so a lock conflict can name it
 * ("lock conflict: /run/web.lock is held by pid 4242"). flock(2) itself does not say.
 *
 * <p>This runs on the launch thread that every pending start shares, for a path a client named:
 * the lockfile is reached by the trusted-path rule (no symlink in any component), and
 * /proc/locks, which any user can grow by holding locks, is read line by line and only so far.
 */
final class LockHolders {
    /** Far more locks than a machine holds in practice; past it the message just names no pid. */
    private static final int MAX_LINES = 65_536;

    private final Path procLocks;
    private final TrustedPath paths;

    LockHolders(Path procLocks, TrustedPath paths) {
        this.procLocks = procLocks;
        this.paths = paths;
    }

    OptionalInt holderOf(String lockfile) {
        FileId id = idOf(lockfile);
        if (id == null) {
            return OptionalInt.empty();
        }
        // /proc/locks names a file as MAJOR:MINOR:INODE, the device numbers in hex.
        String key = String.format("%02x:%02x:%d", major(id.dev()), minor(id.dev()), id.ino());
        try (BufferedReader in = Files.newBufferedReader(procLocks, StandardCharsets.US_ASCII)) {
            String line;
            for (int n = 0; n < MAX_LINES && (line = in.readLine()) != null; n++) {
                // "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF"
                String[] fields = line.trim().split("\\s+");
                if (fields.length >= 6 && fields[1].equals("FLOCK") && fields[5].equals(key)) {
                    return OptionalInt.of(Integer.parseInt(fields[4]));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // the message just stays less precise
        }
        return OptionalInt.empty();
    }

    private FileId idOf(String lockfile) {
        int dir;
        try {
            dir = paths.openParent(lockfile);
        } catch (TrustedPath.Refused e) {
            return null;
        }
        try {
            return paths.idAt(dir, Path.of(lockfile).getFileName().toString());
        } finally {
            paths.os().close(dir);
        }
    }

    private static long major(long dev) {
        return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    }

    private static long minor(long dev) {
        return (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    }
}
