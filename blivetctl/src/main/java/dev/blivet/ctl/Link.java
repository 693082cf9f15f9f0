package dev.blivet.ctl;

import java.io.IOException;

/**
 * A connected AF_UNIX stream socket to blivetd: {@link NativeSocket} where its library loads,
 * else the JDK's channel ({@link ChannelLink}). Both fail with the same messages.
 */
interface Link extends AutoCloseable {
    /** Reads up to {@code length} bytes into {@code buffer} at {@code offset}: the count, or -1 at the end. */
    int read(byte[] buffer, int offset, int length) throws IOException;

    /** Writes all of these bytes. */
    void write(byte[] bytes) throws IOException;

    @Override
    void close() throws IOException;
}
