package dev.blivet.daemon.launch;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;
import jnr.ffi.Runtime;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.UnixLibC;

/** The loaded native libraries, made once per daemon and handed to whoever needs them. */
public final class NativeOs {
    private final POSIX posix;
    private final UnixLibC spawnLibC;
    private final LinuxLibC libc;
    private final Runtime runtime;

    public NativeOs() {
        this.posix = POSIXFactory.getNativePOSIX();
        this.spawnLibC = (UnixLibC) posix.libc();
        this.libc = LibraryLoader.create(LinuxLibC.class).load(Platform.getNativePlatform().getStandardCLibraryName());
        this.runtime = Runtime.getRuntime(libc);
    }

    public POSIX posix() {
        return posix;
    }

    /** jnr-posix's raw posix_spawn functions: they return the errno, unlike the high-level call. */
    public UnixLibC spawnLibC() {
        return spawnLibC;
    }

    public LinuxLibC libc() {
        return libc;
    }

    public Runtime runtime() {
        return runtime;
    }

    /** errno of the last {@link #libc()} call on this thread. */
    public int errno() {
        return LastError.getLastError(runtime);
    }

    public String strerror(int errno) {
        return posix.strerror(errno);
    }

    /** Closes an fd of ours; EINTR on close must not be retried on Linux. */
    public void close(int fd) {
        if (fd >= 0) {
            libc.close(fd);
        }
    }
}
