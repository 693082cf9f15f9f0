package dev.blivet.daemon.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.Arrays;

/**
 * Splits a blocking channel into lines, never holding more than the line limit: a client that
 * sends megabytes without a newline costs the daemon at most the limit, then is refused. The line
 * array grows by doubling but never past the limit, so a full line costs the limit plus, while
 * the last growth copies, the half before it.
 */
final class LineReader {
    /** A line went past the limit before its newline came. */
    static final class LineTooLongException extends IOException {
        LineTooLongException(int limit) {
            super("request line longer than " + limit + " bytes");
        }
    }

    /** One line's bytes, without the newline; valid until the next call of {@link #next}. */
    record Line(byte[] bytes, int length) {
        boolean isBlank() {
            for (int i = 0; i < length; i++) {
                byte b = bytes[i];
                if (b != ' ' && b != '\t' && b != '\r') {
                    return false;
                }
            }
            return true;
        }
    }

    private static final int INITIAL_LINE_BYTES = 256;

    private final ReadableByteChannel channel;
    private final int limit;
    private final ByteBuffer buffer;
    private byte[] line = new byte[INITIAL_LINE_BYTES];

    LineReader(ReadableByteChannel channel, int limit, int readBufferBytes) {
        this.channel = channel;
        this.limit = limit;
        this.buffer = ByteBuffer.allocate(readBufferBytes);
        buffer.flip(); // empty, ready for reading
    }

    /** The next line without its newline, or null at EOF (a partial last line is dropped). */
    Line next() throws IOException {
        if (line.length > INITIAL_LINE_BYTES) {
            line = new byte[INITIAL_LINE_BYTES]; // an idle client does not keep its largest line's array
        }
        int length = 0;
        while (true) {
            while (buffer.hasRemaining()) {
                byte b = buffer.get();
                if (b == '\n') {
                    return new Line(line, length);
                }
                if (length >= limit) {
                    throw new LineTooLongException(limit);
                }
                if (length == line.length) {
                    line = Arrays.copyOf(line, Math.min(limit, line.length * 2));
                }
                line[length++] = b;
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
