package dev.blivet.daemon.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The last lines of a job's output file, and new lines as they are written. Following waits on
 * inotify (the JDK's WatchService), so a follower costs nothing while the job is quiet.
 */
final class LogTail {
    /** Never read more than this from the end to find the last lines. */
    private static final int MAX_TAIL_BYTES = 1 << 20;

    record Tail(List<String> lines, long end) {
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
        if (!Files.isRegularFile(file)) {
            return new Tail(List.of(), 0);
        }
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            long end = in.length();
            long start = Math.max(0, end - MAX_TAIL_BYTES);
            byte[] bytes = new byte[(int) (end - start)];
            in.seek(start);
            in.readFully(bytes);
            List<String> lines = new ArrayList<>(List.of(new String(bytes, StandardCharsets.UTF_8).split("\n", -1)));
            lines.remove(lines.size() - 1); // after the last newline: empty, or a line still being written
            if (start > 0 && !lines.isEmpty()) {
                lines.remove(0); // cut in the middle
            }
            return new Tail(List.copyOf(lines.subList(Math.max(0, lines.size() - count), lines.size())), end - trailing(bytes));
        }
    }

    /** Bytes after the last newline: they belong to the next line, which follow() will send whole. */
    private static int trailing(byte[] bytes) {
        int n = 0;
        for (int i = bytes.length - 1; i >= 0 && bytes[i] != '\n'; i--) {
            n++;
        }
        return n == bytes.length ? 0 : n;
    }

    /** Sends each new complete line to {@code sink} until it returns false or {@link #cancel()}. */
    void follow(long from, Predicate<String> sink) throws IOException, InterruptedException {
        Path dir = watchDir;
        try (WatchService service = dir.getFileSystem().newWatchService()) {
            watch = service;
            if (cancelled) {
                return;
            }
            dir.register(service, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_CREATE);
            long position = from;
            ByteArrayOutputStream partial = new ByteArrayOutputStream();
            while (true) {
                long size = Files.isRegularFile(file) ? Files.size(file) : 0;
                if (size < position) {
                    position = 0; // truncated (a restart without append): start over
                    partial.reset();
                }
                if (size > position) {
                    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
                        in.seek(position);
                        byte[] bytes = new byte[(int) Math.min(size - position, MAX_TAIL_BYTES)];
                        in.readFully(bytes);
                        position += bytes.length;
                        for (byte b : bytes) {
                            if (b == '\n') {
                                if (!sink.test(partial.toString(StandardCharsets.UTF_8))) {
                                    return;
                                }
                                partial.reset();
                            } else {
                                partial.write(b);
                            }
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
