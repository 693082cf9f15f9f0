package dev.blivet.daemon.ledger;

import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.launch.TrustedPath;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;
import jnr.ffi.Runtime;

/** The native calls of the ledger and the adoption watcher, loaded once per daemon. */
public final class LedgerOs {
    private final NativeOs os;
    private final LedgerLibC libc;
    private final Runtime runtime;
    private final TrustedPath paths;

    public LedgerOs(NativeOs os) {
        this(os, java.util.function.UnaryOperator.identity());
    }

    /** With {@code observe} around the native calls: tests count the ledger's fsyncs through it. */
    LedgerOs(NativeOs os, java.util.function.UnaryOperator<LedgerLibC> observe) {
        this.os = os;
        LedgerLibC loaded = LibraryLoader.create(LedgerLibC.class).load(Platform.getNativePlatform().getStandardCLibraryName());
        this.runtime = Runtime.getRuntime(loaded);
        this.libc = observe.apply(loaded);
        this.paths = TrustedPath.of(os);
    }

    NativeOs os() {
        return os;
    }

    LedgerLibC libc() {
        return libc;
    }

    Runtime runtime() {
        return runtime;
    }

    TrustedPath paths() {
        return paths;
    }

    int errno() {
        return LastError.getLastError(runtime);
    }

    String strerror(int errno) {
        return os.strerror(errno);
    }

    int euid() {
        return os.posix().geteuid();
    }
}
