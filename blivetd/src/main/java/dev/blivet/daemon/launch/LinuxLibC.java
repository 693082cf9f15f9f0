package dev.blivet.daemon.launch;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;

/**
 * The libc calls jnr-posix lacks (glibc 2.36 has wrappers for all of them). Every fd made here is
 * close-on-exec from birth, so no job's pipe or socket can leak into another job.
 */
public interface LinuxLibC {
    int O_CLOEXEC = 02000000;
    int O_NONBLOCK = 04000;
    int MFD_CLOEXEC = 1;
    int F_DUPFD_CLOEXEC = 1030;
    int PR_SET_CHILD_SUBREAPER = 36;
    int AF_UNIX = 1;
    int SOCK_DGRAM = 2;
    int SOCK_CLOEXEC = O_CLOEXEC;
    short POLLIN = 0x1;
    int EINTR = 4;
    int ECHILD = 10;
    int EAGAIN = 11;
    int P_ALL = 0;
    int P_PID = 1;
    int WNOHANG = 1;
    int WEXITED = 4;
    int WNOWAIT = 0x01000000;
    /** sizeof(siginfo_t); si_pid sits at offset 16 on 64-bit Linux. */
    int SIGINFO_SIZE = 128;
    int SIGINFO_PID_OFFSET = 16;
    /** The same value on x86-64 and aarch64 (O_DIRECTORY and O_NOFOLLOW differ: take jnr-constants'). */
    int O_PATH = 010000000;
    int AT_FDCWD = -100;
    int AT_SYMLINK_NOFOLLOW = 0x100;
    int AT_EMPTY_PATH = 0x1000;
    int ENOENT = 2;
    int ENOTDIR = 20;
    int ENOSYS = 38;
    int ELOOP = 40;
    /** openat2(2): one number on every architecture that has it (the unified table from 424 on). */
    long SYS_OPENAT2 = 437;
    long RESOLVE_NO_MAGICLINKS = 0x02;
    long RESOLVE_NO_SYMLINKS = 0x04;
    /** sizeof(struct open_how): flags, mode, resolve, each a u64. */
    int OPEN_HOW_SIZE = 24;
    /**
     * Enough for struct stat on every 64-bit Linux (144 bytes on x86-64, 128 on aarch64); st_dev
     * and st_ino are the first two u64 on both, which is all fstatat's callers read.
     */
    int STAT_BUFFER_SIZE = 256;

    /** getsockopt(2) levels and options: the same numbers on x86-64 and aarch64. */
    int SOL_SOCKET = 1;
    int SO_TYPE = 3;
    int SO_PEERCRED = 17;
    int SO_ACCEPTCONN = 30;
    int SO_DOMAIN = 39;
    int SOCK_STREAM = 1;
    int SOCK_SEQPACKET = 5;
    int SCM_RIGHTS = 1;
    int MSG_DONTWAIT = 0x40;
    int MSG_NOSIGNAL = 0x4000;

    int pipe2(int[] fds, int flags);

    int getsockopt(int fd, int level, int option, @Out byte[] value, IntByReference length);

    int sendmsg(int fd, Pointer message, int flags);

    int accept4(int fd, Pointer address, Pointer length, int flags);

    int memfd_create(String name, int flags);

    int fcntl(int fd, int cmd, int arg);

    int poll(Pointer fds, long nfds, int timeoutMillis);

    int prctl(int option, long arg2, long arg3, long arg4, long arg5);

    long read(int fd, byte[] buffer, long count);

    long write(int fd, byte[] buffer, long count);

    int close(int fd);

    int socket(int domain, int type, int protocol);

    int bind(int fd, Pointer address, int length);

    int chown(String path, int uid, int gid);

    int waitpid(int pid, IntByReference status, int options);

    int waitid(int idtype, int id, Pointer info, int options);

    int getpgid(int pid);

    int kill(int pid, int signal);

    int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);

    /** For openat2, which glibc 2.36 does not wrap: {@code syscall(SYS_OPENAT2, dirfd, path, &how, size)}. */
    long syscall(long number, int dirfd, String path, @In byte[] how, long size);

    int openat(int dirfd, String path, int flags, int mode);

    int fstatat(int dirfd, String path, @Out byte[] stat, int flags);

    int unlinkat(int dirfd, String path, int flags);
}
