package dev.blivet.daemon.launch;

import dev.blivet.common.ExitCode;
import dev.blivet.common.Identity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * The datagram socket blivetd holds for one sd-notify job: $NOTIFY_SOCKET points at it and the
 * job sends "READY=1" (and "STATUS=..." lines) as sd_notify(3) does. One socket per job, owned
 * by the job's user with mode 0600, so no other unprivileged process can declare it ready.
 */
public final class SdNotifySocket implements NotifyWatcher.Source, AutoCloseable {
    private static final int SUN_PATH_MAX = 107; // sockaddr_un.sun_path is 108 bytes with its NUL
    private static final int MAX_DATAGRAM = 4096;

    private final NativeOs os;
    private final Path path;
    private final int fd;
    private final byte[] buffer = new byte[MAX_DATAGRAM];
    // Written by whichever single thread drains (the launcher, then the notify watcher), read by the supervisor.
    private volatile boolean ready;
    private volatile String status;

    private SdNotifySocket(NativeOs os, Path path, int fd) {
        this.os = os;
        this.path = path;
        this.fd = fd;
    }

    static SdNotifySocket open(NativeOs os, Path path, Identity owner) throws LaunchException {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length > SUN_PATH_MAX) {
            throw new LaunchException(ExitCode.CANT_CREATE, "cannot create notify socket: path longer than "
                    + SUN_PATH_MAX + " bytes: " + path);
        }
        try {
            Files.deleteIfExists(path); // a stale socket of an earlier blivetd
        } catch (IOException e) {
            throw new LaunchException(ExitCode.CANT_CREATE, "cannot create notify socket: " + path + ": " + e.getMessage());
        }
        int fd = os.libc().socket(LinuxLibC.AF_UNIX, LinuxLibC.SOCK_DGRAM | LinuxLibC.SOCK_CLOEXEC
                | LinuxLibC.O_NONBLOCK, 0);
        if (fd < 0) {
            throw new LaunchException(ExitCode.OS_ERROR, "os error: socket: " + os.strerror(os.errno()));
        }
        SdNotifySocket socket = new SdNotifySocket(os, path, fd);
        try {
            Pointer address = Memory.allocateDirect(os.runtime(), 2 + SUN_PATH_MAX + 1);
            address.putShort(0, (short) LinuxLibC.AF_UNIX);
            address.put(2, name, 0, name.length);
            address.putByte(2 + name.length, (byte) 0);
            if (os.libc().bind(fd, address, 2 + name.length + 1) != 0) {
                throw new LaunchException(ExitCode.CANT_CREATE, "cannot create notify socket: " + path + ": "
                        + os.strerror(os.errno()));
            }
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            if (owner != null && os.libc().chown(path.toString(), owner.uid(), owner.gid()) != 0) {
                throw new LaunchException(ExitCode.CANT_CREATE, "cannot chown notify socket: " + path + ": "
                        + os.strerror(os.errno()));
            }
            return socket;
        } catch (IOException e) {
            socket.close();
            throw new LaunchException(ExitCode.CANT_CREATE, "cannot create notify socket: " + path + ": " + e.getMessage());
        } catch (LaunchException e) {
            socket.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public int fd() {
        return fd;
    }

    /** Reads every datagram waiting, keeping READY=1 and the last STATUS=. */
    @Override
    public void drain() {
        while (true) {
            long n = os.libc().read(fd, buffer, buffer.length);
            if (n < 0) {
                return; // EAGAIN: nothing more (any other error: nothing to read either)
            }
            for (String line : new String(buffer, 0, (int) n, StandardCharsets.UTF_8).split("\n")) {
                if (line.equals("READY=1")) {
                    ready = true;
                } else if (line.startsWith("STATUS=")) {
                    status = line.substring("STATUS=".length());
                }
            }
        }
    }

    public boolean ready() {
        return ready;
    }

    /** The job's last STATUS= text, for display; null until it sends one. */
    public String status() {
        return status;
    }

    @Override
    public void close() {
        os.close(fd);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // nothing else can be done; the next start of this job replaces it
        }
    }
}
