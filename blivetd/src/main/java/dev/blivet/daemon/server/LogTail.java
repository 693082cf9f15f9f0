package dev.blivet.daemon.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.Predicate;

/**
 * The last lines of a job's output file, and new lines as they are written. Following waits on
 * inotify (the JDK's WatchService), so a follower costs nothing while the job is quiet.
 *
 * <p>The file belongs to the job and may be anything: one line of 2 GB without a newline, or a
 * sparse file of terabytes. So nothing here grows with the file: the last lines come from a
 * window of at most {@link #TAIL_WINDOW} bytes at the end, following reads at most
 * {@link #CHUNK} bytes at a time into one buffer, and a line longer than {@link #MAX_LINE} is
 * sent cut, with {@link #CUT_MARK}, and the rest of it skipped up to its newline.
 */
final class LogTail {
    /*
     * The limits, and why these values. Worst case per logs request (every byte a control
     * character, which JSON escapes as 6 chars): the first answer holds the window (64 KiB), its
     * lines as strings (at most 128 KiB) and the response text (at most TAIL_JSON_BUDGET, twice:
     * as a string and as bytes), about 320 KiB and only while it is written; a follower holds one
     * CHUNK, one MAX_LINE buffer and one event (at most 6 x 16 KiB, twice), about 272 KiB. So 512
     * connections (ControlServer's limit), every one a logs request at its worst, need at most
     * 160 MiB. 64 KiB of tail is hundreds of ordinary lines, more than a person reads at once;
     * 64 KiB is the pipe size a job writes in anyway; 16 KiB is longer than any line a person
     * reads.
     */
    static final int TAIL_WINDOW = 64 * 1024;
    static final int TAIL_JSON_BUDGET = 64 * 1024;
    static final int CHUNK = 64 * 1024;
    static final int MAX_LINE = 16 * 1024;
    static final String CUT_MARK = " [cut: line longer than " + MAX_LINE + " bytes]";

    /**
     * @param lines the last complete lines, oldest first
     * @param end where following starts: the start of the first line not in {@code lines}
     * @param midLine whether {@code end} lies inside a line whose start is beyond the window (a
     *     follower skips the rest of it)
     */
    record Tail(List<String> lines, long end, boolean midLine) {
    }

    private final Path file;
    private final Path watchDir;
    private volatile WatchService watch;
    private volatile boolean cancelled;

    /**
     * @param file what to read (a /proc/self/fd path to a checked, open file)
     * @param watchDir the directory whose changes wake a follower (where the job writes)
     */
    LogTail(Path file, Path watchDir) {
        this.file = file;
        this.watchDir = watchDir;
    }

    Tail lastLines(int count) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            long end = in.size();
            long start = Math.max(0, end - TAIL_WINDOW);
            ByteBuffer window = ByteBuffer.allocate((int) (end - start));
            while (window.hasRemaining() && in.read(window, start + window.position()) > 0) {
                // positional reads until the window is full or the file shrank
            }
            byte[] bytes = window.array();
            int length = window.position();
            int lastNewline = length - 1;
            while (lastNewline >= 0 && bytes[lastNewline] != '\n') {
                lastNewline--;
            }
            if (lastNewline < 0 && start > 0) {
                return new Tail(List.of(), start + length, true); // one line wider than the window
            }
            // A line cut by the window's start is incomplete: it is dropped, unless the window is the file.
            // (That first newline exists: lastNewline >= 0 here whenever start > 0.)
            int from = 0;
            if (start > 0) {
                while (bytes[from] != '\n') {
                    from++;
                }
                from++;
            }
            // Newest first, until the count or the budget of the answer's JSON text is reached.
            Deque<String> lines = new ArrayDeque<>();
            long json = 0;
            for (int lineEnd = lastNewline; lineEnd >= from && lines.size() < count; ) {
                int lineStart = lineEnd;
                while (lineStart > from && bytes[lineStart - 1] != '\n') {
                    lineStart--;
                }
                String line = text(bytes, lineStart, lineEnd - lineStart);
                json += jsonLength(line);
                if (json > TAIL_JSON_BUDGET) {
                    break;
                }
                lines.addFirst(line);
                lineEnd = lineStart - 1;
            }
            // After the last newline: a line still being written, which follow() sends whole.
            return new Tail(List.copyOf(lines), start + lastNewline + 1, false);
        }
    }

    /** The length of {@code line} as a JSON string in an array: quotes, comma and escapes included. */
    private static long jsonLength(String line) {
        long length = 3;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"' || c == '\\' || c == '\n' || c == '\t' || c == '\r' || c == '\b' || c == '\f') {
                length += 2;
            } else if (c < 0x20) {
                length += 6;
            } else {
                length += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
            }
        }
        return length;
    }

    /** A line as sent: at most {@link #MAX_LINE} bytes of it, marked when cut. */
    private static String text(byte[] bytes, int offset, int length) {
        if (length <= MAX_LINE) {
            return new String(bytes, offset, length, StandardCharsets.UTF_8);
        }
        return new String(bytes, offset, MAX_LINE, StandardCharsets.UTF_8) + CUT_MARK;
    }

    /** Sends each new complete line to {@code sink} until it returns false or {@link #cancel()}. */
    void follow(Tail from, Predicate<String> sink) throws IOException, InterruptedException {
        try (WatchService service = watchDir.getFileSystem().newWatchService();
                FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            watch = service;
            if (cancelled) {
                return;
            }
            watchDir.register(service, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_CREATE);
            Lines lines = new Lines(sink, from.midLine());
            long position = from.end();
            ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
            while (!cancelled) {
                long size = in.size();
                if (size < position) {
                    position = 0; // truncated (a restart without append): start over
                    lines.restart();
                }
                if (size > position) {
                    chunk.clear();
                    int n = in.read(chunk, position);
                    if (n > 0) {
                        position += n;
                        if (!lines.accept(chunk.array(), n)) {
                            return;
                        }
                    }
                    continue; // more may have come while we sent
                }
                try {
                    service.take().reset();
                } catch (ClosedWatchServiceException e) {
                    return;
                }
            }
        }
    }

    /** Splits bytes into lines in one fixed buffer, cutting and skipping the over-long ones. */
    private static final class Lines {
        private final Predicate<String> sink;
        private final byte[] line = new byte[MAX_LINE];
        private int length;
        private boolean skipping;

        Lines(Predicate<String> sink, boolean skipping) {
            this.sink = sink;
            this.skipping = skipping;
        }

        void restart() {
            length = 0;
            skipping = false;
        }

        /** False once the sink wants no more. */
        boolean accept(byte[] bytes, int count) {
            for (int i = 0; i < count; i++) {
                byte b = bytes[i];
                if (b == '\n') {
                    boolean wasSkipping = skipping;
                    skipping = false;
                    int n = length;
                    length = 0;
                    if (!wasSkipping && !sink.test(new String(line, 0, n, StandardCharsets.UTF_8))) {
                        return false;
                    }
                } else if (skipping) {
                    continue;
                } else if (length < MAX_LINE) {
                    line[length++] = b;
                } else {
                    skipping = true;
                    int n = length;
                    length = 0;
                    if (!sink.test(new String(line, 0, n, StandardCharsets.UTF_8) + CUT_MARK)) {
                        return false;
                    }
                }
            }
            return true;
        }
    }

    void cancel() {
        cancelled = true;
        WatchService service = watch;
        if (service != null) {
            try {
                service.close();
            } catch (IOException e) {
                // closing wakes the follower either way
            }
        }
    }
}
