package dev.blivet.daemon.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What /proc/PID/stat says of a process: enough to tell it from any later process with the same
 * pid (the start time, field 22, in clock ticks since boot) and to know its group.
 *
 * @param state field 3: Z (zombie) and X (dead) have ended
 * @param pgid field 5
 * @param startTime field 22
 */
public record ProcStat(int pid, char state, int pgid, long startTime) {
    /** The process now at {@code pid}, or null if there is none. */
    public static ProcStat of(int pid) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "stat"));
        } catch (IOException e) {
            return null;
        }
        String stat = new String(bytes, StandardCharsets.US_ASCII);
        // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return null;
        }
        String[] fields = stat.substring(close + 2).trim().split(" ");
        if (fields.length < 20) {
            return null;
        }
        // fields[0] is field 3 (state), so field N is fields[N - 3].
        return new ProcStat(pid, fields[0].charAt(0), Integer.parseInt(fields[2]), Long.parseLong(fields[19]));
    }

    /** Has not ended: not a zombie waiting for its parent, not dead. */
    public boolean alive() {
        return state != 'Z' && state != 'X';
    }
}
