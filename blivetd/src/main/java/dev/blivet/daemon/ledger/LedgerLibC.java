package dev.blivet.daemon.ledger;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * The libc calls the ledger and the adoption watcher need beyond {@code LinuxLibC}: writing a
 * record durably inside a pinned directory fd, and pidfds (Linux 5.3+; their exit info 6.15+).
 */
public interface LedgerLibC {
    int O_RDONLY = 0;
    int O_WRONLY = 1;
    int O_CREAT = 0100;
    int O_EXCL = 0200;
    int EEXIST = 17;
    int ENOENT = 2;
    int SEEK_END = 2;
    int ESRCH = 3;
    /** pidfd_open(2) and pidfd_send_signal(2): one number on every architecture (the unified table). */
    long SYS_PIDFD_OPEN = 434;
    long SYS_PIDFD_SEND_SIGNAL = 424;
    /** _IOWR(PIDFS_IOCTL_MAGIC 0xFF, 11, struct pidfd_info (64 bytes)): Linux 6.13+, its EXIT flag 6.15+. */
    long PIDFD_GET_INFO = 0xC040FF0BL;
    int PIDFD_INFO_SIZE = 64;
    long PIDFD_INFO_EXIT = 1L << 3;
    /** Offset of {@code __s32 exit_code} in struct pidfd_info: after two u64 and eleven u32. */
    int PIDFD_INFO_EXIT_CODE_OFFSET = 60;

    int openat(int dirfd, String path, int flags, int mode);

    int mkdirat(int dirfd, String path, int mode);

    int renameat(int olddirfd, String oldpath, int newdirfd, String newpath);

    int unlinkat(int dirfd, String path, int flags);

    int fsync(int fd);

    long write(int fd, @In byte[] buffer, long count);

    long read(int fd, @Out byte[] buffer, long count);

    long pwrite(int fd, @In byte[] buffer, long count, long offset);

    long lseek(int fd, long offset, int whence);

    int close(int fd);

    int poll(Pointer fds, long nfds, int timeoutMillis);

    int pipe2(int[] fds, int flags);

    long syscall(long number, long a1, long a2, long a3, long a4);

    int ioctl(int fd, long request, @In @Out byte[] argument);
}
