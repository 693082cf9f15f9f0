package dev.blivet.daemon.cgroup;

import java.io.IOException;

/** A cgroup file operation failed; the message names the operation and the path, errno says why. */
public final class CgroupException extends IOException {
    private final int errno;

    CgroupException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
