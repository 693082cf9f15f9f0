package dev.blivet.common;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import jnr.posix.FileStat;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * {@link SystemProbe} from the real file system, with blivetd's own credentials. stat and lstat
 * go through libc directly: the JDK's answer to a path that does not exist is an exception, built
 * with its stack trace, and a PATH lookup or a new pidfile is exactly such a path.
 */
public final class FileSystemProbe implements SystemProbe {
    private final POSIX posix;

    public FileSystemProbe() {
        this(POSIXFactory.getNativePOSIX());
    }

    FileSystemProbe(POSIX posix) {
        this.posix = posix;
    }

    @Override
    public PathFacts look(Path path) {
        FileStat stat = posix.allocateStat();
        return posix.lstat(path.toString(), stat) == 0 ? facts(stat) : PathFacts.MISSING;
    }

    @Override
    public PathFacts follow(Path path) {
        FileStat stat = posix.allocateStat();
        return posix.stat(path.toString(), stat) == 0 ? facts(stat) : PathFacts.MISSING;
    }

    private static PathFacts facts(FileStat stat) {
        return new PathFacts(stat.mode(), stat.dev(), stat.ino(), stat.uid(), stat.gid(), stat.nlink());
    }

    @Override
    public Optional<String> whyNotWritable(Path path) {
        try {
            path.getFileSystem().provider().checkAccess(path, AccessMode.WRITE);
            return Optional.empty();
        } catch (AccessDeniedException e) {
            return Optional.of(PERMISSION_DENIED);
        } catch (FileSystemException e) {
            // The JDK words the errno with strerror: "Read-only file system", "Too many levels of symbolic links".
            String why = e.getReason() == null ? "cannot be written" : e.getReason();
            return Optional.of(why.isEmpty() ? why : Character.toLowerCase(why.charAt(0)) + why.substring(1));
        } catch (IOException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }

    @Override
    public boolean isExecutable(Path file) {
        return Files.isExecutable(file);
    }
}
