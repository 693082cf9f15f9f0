package dev.blivet.common;

import java.nio.file.Path;

/**
 * What {@link JobSpecResolver} asks the file system, and nothing else: every rule that needs no
 * answer from here is pure, and tests run them with a fake. {@link FileSystemProbe} is the real
 * one. Paths given are absolute and, inside a chroot, already prefixed with it.
 *
 * <p>Each answer is blivetd's view (it runs the probes with its own credentials). For a non-root
 * client of a root blivetd the resolver calls none of these: root's answers would tell that
 * client about places it may not see.
 */
public interface SystemProbe {
    /** {@link #whyNotWritable}'s answer for EACCES and EPERM: the one a mode or an owner explains. */
    String PERMISSION_DENIED = "permission denied";

    /** Something exists there, following symbolic links. */
    boolean exists(Path path);

    /** A directory, following symbolic links. */
    boolean isDirectory(Path path);

    /** A regular file, following symbolic links. */
    boolean isRegularFile(Path path);

    /** The path itself is a symbolic link (it is not followed). */
    boolean isSymbolicLink(Path path);

    /** blivetd may write there (create in a directory, open a file for writing). */
    boolean isWritable(Path path);

    /**
     * Why blivetd may not write there, in the words of the real errno ({@link #PERMISSION_DENIED},
     * "read-only file system", ...), or empty when it may. A probe that knows no errno says
     * {@link #PERMISSION_DENIED}.
     */
    default java.util.Optional<String> whyNotWritable(Path path) {
        return isWritable(path) ? java.util.Optional.empty() : java.util.Optional.of(PERMISSION_DENIED);
    }

    /**
     * Why the helper would refuse this existing regular file as a job's output, lock or pid file
     * for a job running as {@code owner} ("belongs to uid 0, not to the job's user (uid 65534);
     * ..."), or empty. A probe that cannot tell answers empty, and the helper decides at the start.
     */
    default java.util.Optional<String> whyNotJobsFile(Path file, int owner) {
        return java.util.Optional.empty();
    }

    /**
     * The regular file {@code file} may be executed by {@code identity}, or by blivetd itself
     * when {@code identity} is null.
     */
    boolean isExecutable(Path file, Identity identity);

    /**
     * Two different paths name the same file: through symbolic links in their directories, or as
     * hard links of one existing file. Paths that do not resolve yet are different files.
     */
    boolean isSameFile(Path a, Path b);
}
