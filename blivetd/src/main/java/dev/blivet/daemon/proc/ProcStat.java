package dev.blivet.daemon.proc;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What /proc/PID/stat says of a process, the one reader of that line in blivetd: its state, its
 * parent, group and session, and its start time (field 22, in clock ticks since boot), which
 * tells it from any later process with the same pid.
 *
 * @param state field 3: Z (zombie) and X (dead) have ended
 * @param ppid field 4
 * @param pgid field 5
 * @param session field 6
 * @param startTime field 22
 */
public record ProcStat(int pid, char state, int ppid, int pgid, int session, long startTime) {
    /** /proc/PID/stat is one line of 52 fields, about 300 bytes; the command name is at most 64. */
    private static final int STAT_BYTES = 1024;
    /** /proc/PID/status is about 1.5 kB; "Uid:" is its ninth line. */
    private static final int STATUS_BYTES = 4096;

    /**
     * The process now at {@code pid}, or null if there is none. One open and one read, parsed
     * as bytes: a start records its pid with this on the loop the reply waits on, and
     * Files.readAllBytes with a String split cost it 30-100 us (docs/benchmarks.md, "The ledger").
     */
    public static ProcStat of(int pid) {
        try (FileInputStream in = new FileInputStream("/proc/" + pid + "/stat")) {
            return read(pid, in);
        } catch (IOException e) {
            return null;
        }
    }

    /** As {@link #of}, under another /proc (the tests' own). */
    public static ProcStat of(Path proc, int pid) {
        try (InputStream in = Files.newInputStream(proc.resolve(Integer.toString(pid)).resolve("stat"))) {
            return read(pid, in);
        } catch (IOException | RuntimeException e) {
            return null; // gone while we looked
        }
    }

    private static ProcStat read(int pid, InputStream in) throws IOException {
        byte[] bytes = new byte[STAT_BYTES];
        return parse(pid, bytes, in.readNBytes(bytes, 0, bytes.length));
    }

    /** Fields 3 to 6 and 22 of a stat line, or null if it is not one. */
    public static ProcStat parse(int pid, byte[] bytes, int length) {
        // The command name (field 2) is the process's to choose and may hold spaces and
        // parentheses: the fields resume after the LAST ')'.
        int close = length - 1;
        while (close >= 0 && bytes[close] != ')') {
            close--;
        }
        int at = close + 2; // field 3, after ") "
        if (close < 0 || at >= length || at + 1 < length && bytes[at + 1] != ' ') {
            return null;
        }
        char state = (char) bytes[at];
        long[] fields = new long[4]; // ppid, pgid, session, start time
        for (int field = 3; field < 22; field++) {
            int space = at;
            while (space < length && bytes[space] != ' ') {
                space++;
            }
            if (space == length) {
                return null;
            }
            at = space + 1;
            if (field >= 3 && field <= 5) {
                int end = at;
                while (end < length && bytes[end] != ' ') {
                    end++;
                }
                fields[field - 3] = number(bytes, at, end);
            }
        }
        int end = at;
        while (end < length && bytes[end] != ' ' && bytes[end] != '\n') {
            end++;
        }
        fields[3] = number(bytes, at, end);
        for (int i = 0; i < 3; i++) {
            if (fields[i] < 0 || fields[i] > Integer.MAX_VALUE) {
                return null;
            }
        }
        return fields[3] < 0 ? null
                : new ProcStat(pid, state, (int) fields[0], (int) fields[1], (int) fields[2], fields[3]);
    }

    /** The decimal number bytes[from..to) spells, or -1 if it is not one (18 digits at most: no overflow). */
    private static long number(byte[] bytes, int from, int to) {
        if (from >= to || to - from > 18) {
            return -1;
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            int digit = bytes[i] - '0';
            if (digit < 0 || digit > 9) {
                return -1;
            }
            value = value * 10 + digit;
        }
        return value;
    }

    /** Has not ended: not a zombie waiting for its parent, not dead. */
    public boolean alive() {
        return state != 'Z' && state != 'X';
    }

    /** The real uid of {@code pid} (/proc/PID/status, "Uid:"), or -1 when it cannot be read. */
    public static int realUid(Path proc, int pid) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(proc.resolve(Integer.toString(pid)).resolve("status"))) {
            bytes = in.readNBytes(STATUS_BYTES);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return parseUid(new String(bytes, StandardCharsets.US_ASCII));
    }

    /** The real uid from a status's "Uid:\treal\teffective\tsaved\tfs" line, or -1. */
    static int parseUid(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("Uid:")) {
                try {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
