package dev.blivet.daemon.launch;

import jnr.ffi.Pointer;
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
    int PR_GET_CHILD_SUBREAPER = 37;
    int AF_UNIX = 1;
    int SOCK_DGRAM = 2;
    int SOCK_CLOEXEC = O_CLOEXEC;
    short POLLIN = 0x1;
    short POLLERR = 0x8;
    short POLLHUP = 0x10;
    short POLLNVAL = 0x20;
    int EINTR = 4;
    int ECHILD = 10;
    int EAGAIN = 11;
    int ESRCH = 3;
    int P_ALL = 0;
    int P_PID = 1;
    int WNOHANG = 1;
    int WEXITED = 4;
    int WNOWAIT = 0x01000000;
    /** sizeof(siginfo_t); si_pid sits at offset 16 on 64-bit Linux. */
    int SIGINFO_SIZE = 128;
    int SIGINFO_PID_OFFSET = 16;

    int pipe2(int[] fds, int flags);

    int memfd_create(String name, int flags);

    int fcntl(int fd, int cmd, int arg);

    int pidfd_open(int pid, int flags);

    int pidfd_send_signal(int pidfd, int sig, Pointer info, int flags);

    int poll(Pointer fds, long nfds, int timeoutMillis);

    int prctl(int option, long arg2, long arg3, long arg4, long arg5);

    long read(int fd, byte[] buffer, long count);

    long write(int fd, byte[] buffer, long count);

    int close(int fd);

    int socket(int domain, int type, int protocol);

    int bind(int fd, Pointer address, int length);

    int fchown(int fd, int uid, int gid);

    int chown(String path, int uid, int gid);

    int waitpid(int pid, IntByReference status, int options);

    int waitid(int idtype, int id, Pointer info, int options);

    int getpgid(int pid);

    int kill(int pid, int signal);

    int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);
}
