package dev.blivet.common;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What {@link JobSpecResolver} asks the file system, and nothing else: every rule that needs no
 * answer from here is pure, and tests run them with a fake. {@link FileSystemProbe} is the real
 * one. Paths given are absolute and, inside a chroot, already prefixed with it. Each method is
 * one system call, and the resolver asks each of a path at most once per resolution.
 *
 * <p>Each answer is blivetd's view (it runs the probes with its own credentials). For a non-root
 * client of a root blivetd the resolver calls none of these: root's answers would tell that
 * client about places it may not see.
 */
public interface SystemProbe {
    /** {@link #whyNotWritable}'s answer for EACCES and EPERM: the one a mode or an owner explains. */
    String PERMISSION_DENIED = "permission denied";

    /** The path itself, a symbolic link not followed: lstat(2). */
    PathFacts look(Path path);

    /** What the path leads to, through symbolic links: stat(2). */
    PathFacts follow(Path path);

    /**
     * Why blivetd may not write there (create in a directory, open a file for writing), in the
     * words of the real errno ({@link #PERMISSION_DENIED}, "read-only file system", ...), or
     * empty when it may: access(2) with W_OK.
     */
    Optional<String> whyNotWritable(Path path);

    /**
     * blivetd itself may execute the regular file {@code file}: access(2) with X_OK, which also
     * knows ACLs and noexec mounts. For a job with another identity the resolver decides from the
     * file's mode bits ({@link PathFacts}) instead.
     */
    boolean isExecutable(Path file);
}
