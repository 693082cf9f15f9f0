package dev.blivet.daemon.keeper;

import dev.blivet.daemon.launch.LinuxLibC;
import dev.blivet.daemon.launch.NativeOs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jnr.ffi.byref.IntByReference;

/** What an inherited fd is, asked of the kernel (getsockopt), never of the environment that names it. */
public final class SocketFacts {
    private static final int UCRED_SIZE = 12; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }

    private final NativeOs os;

    public SocketFacts(NativeOs os) {
        this.os = os;
    }

    /** A Unix socket of {@code type} (SOCK_STREAM, SOCK_SEQPACKET); false for any other fd, or none. */
    public boolean isUnix(int fd, int type) {
        return option(fd, LinuxLibC.SO_DOMAIN) == LinuxLibC.AF_UNIX && option(fd, LinuxLibC.SO_TYPE) == type;
    }

    public boolean isListening(int fd) {
        return option(fd, LinuxLibC.SO_ACCEPTCONN) == 1;
    }

    /** SO_PEERCRED's pid: for a socketpair, the process that made the pair; -1 where unknown. */
    public int peerPid(int fd) {
        byte[] value = new byte[UCRED_SIZE];
        IntByReference length = new IntByReference(UCRED_SIZE);
        if (os.libc().getsockopt(fd, LinuxLibC.SOL_SOCKET, LinuxLibC.SO_PEERCRED, value, length) != 0) {
            return -1;
        }
        return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt(0);
    }

    private int option(int fd, int option) {
        byte[] value = new byte[4];
        IntByReference length = new IntByReference(4);
        if (os.libc().getsockopt(fd, LinuxLibC.SOL_SOCKET, option, value, length) != 0) {
            return -1;
        }
        return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt(0);
    }
}
