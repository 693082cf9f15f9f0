package dev.blivet.daemon.launch;

/**
 * Which file a path named when blivet-spawn opened it: st_dev (glibc's encoding, as
 * {@code stat(2)} and jnr-posix's FileStat report it) and st_ino. blivetd removes a pidfile only
 * while its name still refers to this very file, so a name swapped meanwhile is never removed.
 */
public record FileId(long dev, long ino) {
}
