package dev.blivet.daemon.launch;

/** Test-only libc calls: take and test real flock(2) locks, make FIFOs. */
public interface TestLibC {
    int O_RDWR = 2;
    int O_CREAT = 0100;
    int O_CLOEXEC = 02000000;
    int LOCK_EX = 2;
    int LOCK_NB = 4;
    int LOCK_UN = 8;

    int open(String path, int flags, int mode);

    int flock(int fd, int operation);

    int close(int fd);

    int mkfifo(String path, int mode);
}
