package dev.blivet.daemon.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * Splits a blocking channel into lines, never holding more than the line limit: a client that
 * sends megabytes without a newline costs the daemon at most the limit, then is refused.
 */
final class LineReader {
    /** A line went past the limit before its newline came. */
    static final class LineTooLongException extends IOException {
        LineTooLongException(int limit) {
            super("request line longer than " + limit + " bytes");
        }
    }

    private final ReadableByteChannel channel;
    private final int limit;
    private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    LineReader(ReadableByteChannel channel, int limit) {
        this.channel = channel;
        this.limit = limit;
        buffer.flip(); // empty, ready for reading
    }

    /** The next line without its newline, or null at EOF (a partial last line is dropped). */
    String next() throws IOException {
        while (true) {
            while (buffer.hasRemaining()) {
                byte b = buffer.get();
                if (b == '\n') {
                    String text = line.toString(StandardCharsets.UTF_8);
                    line.reset();
                    return text;
                }
                if (line.size() >= limit) {
                    throw new LineTooLongException(limit);
                }
                line.write(b);
            }
            buffer.clear();
            int n = channel.read(buffer);
            buffer.flip();
            if (n < 0) {
                return null;
            }
        }
    }
}
