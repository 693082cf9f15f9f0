package dev.blivet.daemon.cgroup;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;
import jnr.ffi.annotations.Out;

/**
 * The libc calls the cgroup code needs beyond {@code LinuxLibC}: directory work relative to an
 * fd, the file system's magic number, inotify, and pidfds (by number: glibc 2.36 wraps them, but
 * the raw calls need no newer glibc).
 */
public interface CgroupLibC {
    /** statfs(2)'s f_type of a cgroup v2 file system. */
    long CGROUP2_SUPER_MAGIC = 0x63677270L;
    /** struct statfs is 120 bytes on 64-bit Linux; f_type is its first field, a long. */
    int STATFS_SIZE = 256;
    int AT_REMOVEDIR = 0x200;
    int IN_CLOEXEC = 02000000;
    int IN_MODIFY = 0x2;
    int IN_IGNORED = 0x8000;
    int EEXIST = 17;
    int ENOENT = 2;
    int EBUSY = 16;
    int ESRCH = 3;
    int EINTR = 4;
    /** The same numbers on x86-64 and aarch64 (the unified table from 424 on). */
    long SYS_PIDFD_SEND_SIGNAL = 424;
    long SYS_PIDFD_OPEN = 434;

    int openat(int dirfd, String path, int flags, int mode);

    int mkdirat(int dirfd, String path, int mode);

    int unlinkat(int dirfd, String path, int flags);

    int fstatfs(int fd, @Out byte[] buffer);

    long read(int fd, @Out byte[] buffer, long count);

    long write(int fd, byte[] buffer, long count);

    int close(int fd);

    int inotify_init1(int flags);

    int inotify_add_watch(int fd, String path, int mask);

    int inotify_rm_watch(int fd, int wd);

    int getppid();

    /** For systemd's "trusted.delegate" / "user.delegate" marks on a delegated cgroup. */
    long fgetxattr(int fd, String name, @Out byte[] value, long size);

    /** pidfd_open(pid, flags). */
    long syscall(long number, int pid, int flags);

    /** pidfd_send_signal(pidfd, sig, NULL, flags): the info pointer is passed as 0. */
    long syscall(long number, int pidfd, int signal, long info, int flags);

    static CgroupLibC load() {
        return LibraryLoader.create(CgroupLibC.class).load(Platform.getNativePlatform().getStandardCLibraryName());
    }
}
