package dev.blivet.daemon.ledger;

import java.io.FileInputStream;
import java.io.IOException;

/**
 * What /proc/PID/stat says of a process: enough to tell it from any later process with the same
 * pid (the start time, field 22, in clock ticks since boot) and to know its group.
 *
 * @param state field 3: Z (zombie) and X (dead) have ended
 * @param pgid field 5
 * @param startTime field 22
 */
public record ProcStat(int pid, char state, int pgid, long startTime) {
    /** /proc/PID/stat is one line of 52 fields, about 300 bytes; the command name is at most 64. */
    private static final int STAT_BYTES = 1024;

    /**
     * The process now at {@code pid}, or null if there is none. One open and one read, parsed
     * as bytes: a start records its pid with this on the loop the reply waits on, and
     * Files.readAllBytes with a String split cost it 30-100 us (docs/benchmarks.md, "The ledger").
     */
    public static ProcStat of(int pid) {
        byte[] bytes = new byte[STAT_BYTES];
        int length;
        try (FileInputStream in = new FileInputStream("/proc/" + pid + "/stat")) {
            length = in.readNBytes(bytes, 0, bytes.length);
        } catch (IOException e) {
            return null;
        }
        return parse(pid, bytes, length);
    }

    /** Fields 3, 5 and 22 of a stat line, or null if it is not one. */
    static ProcStat parse(int pid, byte[] bytes, int length) {
        // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
        int close = length - 1;
        while (close >= 0 && bytes[close] != ')') {
            close--;
        }
        int at = close + 2; // field 3, after ") "
        if (close < 0 || at >= length) {
            return null;
        }
        char state = (char) bytes[at];
        long pgid = -1;
        for (int field = 3; field < 22; field++) {
            int space = at;
            while (space < length && bytes[space] != ' ') {
                space++;
            }
            if (space == length) {
                return null;
            }
            if (field == 5) {
                pgid = number(bytes, at, space);
            }
            at = space + 1;
        }
        int end = at;
        while (end < length && bytes[end] != ' ' && bytes[end] != '\n') {
            end++;
        }
        long startTime = number(bytes, at, end);
        return pgid < 0 || pgid > Integer.MAX_VALUE || startTime < 0 ? null
                : new ProcStat(pid, state, (int) pgid, startTime);
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
}
