package dev.blivet.ctl;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Path;

/**
 * An AF_UNIX stream socket through blivetctl's own small JNI library
 * ({@code src/main/c/blivetctl-socket.c}) rather than the JDK's channel, whose first use sets up
 * a SecureRandom and the security providers: most of a {@code blivetctl status} run's own cost
 * (docs/benchmarks.md, "blivetctl: start-up"). The launcher names the library with the system
 * property {@value #LIBRARY}; without it, or where it does not load (another architecture, a
 * missing file), blivetctl uses the JDK's channel and behaves the same, only slower.
 */
final class NativeSocket implements Link {
    /** The system property that holds the library's absolute path (bin/blivetctl sets it). */
    static final String LIBRARY = "blivetctl.native";

    private final int fd;
    private boolean closed;

    private NativeSocket(int fd) {
        this.fd = fd;
    }

    /** Whether the library is loaded: tried once per JVM, on first use. */
    static boolean available() {
        return Loaded.YES;
    }

    /** A socket connected to this path; the IOException's message is the JDK channel's for the same failure. */
    static NativeSocket connect(Path socket) throws IOException {
        if (!available()) {
            throw new IllegalStateException("blivetctl's socket library is not loaded (" + LIBRARY + ")");
        }
        // The bytes the JDK's channel would use for the path (sun.nio.ch.UnixDomainSockets).
        return new NativeSocket(connect0(socket.toString().getBytes(Charset.defaultCharset())));
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (closed) {
            throw new IOException("Socket closed");
        }
        return read0(fd, buffer, offset, length);
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        if (closed) {
            throw new IOException("Socket closed");
        }
        for (int written = 0; written < bytes.length;) {
            written += write0(fd, bytes, written, bytes.length - written);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            close0(fd);
        }
    }

    private static native int connect0(byte[] path) throws IOException;

    private static native int read0(int fd, byte[] buffer, int offset, int length) throws IOException;

    private static native int write0(int fd, byte[] buffer, int offset, int length) throws IOException;

    private static native void close0(int fd);

    /** The library's loading, in a holder so that it happens once, when first asked about. */
    private static final class Loaded {
        static final boolean YES = load();

        private static boolean load() {
            String path = System.getProperty(LIBRARY);
            if (path == null || path.isEmpty()) {
                return false;
            }
            try {
                System.load(path);
                return true;
            } catch (UnsatisfiedLinkError | SecurityException e) {
                return false; // the JDK's channel does the same work
            }
        }
    }
}
