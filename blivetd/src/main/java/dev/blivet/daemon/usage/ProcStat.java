package dev.blivet.daemon.usage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The few fields of /proc/PID/stat and /proc/PID/status blivetd needs about a process: its state,
 * parent, process group, session and real uid. A process that ends while it is read is
 * {@link Optional#empty()}, as one that never was.
 *
 * @param state the one-letter state ('Z' for a zombie)
 * @param uid the real uid (/proc/PID/status "Uid:"), or -1 when not read
 */
public record ProcStat(int pid, char state, int ppid, int pgrp, int session, int uid) {

    /** Reads /proc/PID/stat and /proc/PID/status under {@code proc}. */
    public static Optional<ProcStat> read(Path proc, int pid) {
        try {
            Path dir = proc.resolve(Integer.toString(pid));
            Optional<ProcStat> stat = parseStat(pid, Files.readString(dir.resolve("stat")));
            if (stat.isEmpty()) {
                return stat;
            }
            int uid = parseUid(Files.readString(dir.resolve("status")));
            return Optional.of(new ProcStat(pid, stat.get().state, stat.get().ppid, stat.get().pgrp,
                    stat.get().session, uid));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // gone while we looked
        }
    }

    /**
     * Parses a /proc/PID/stat line. The command (field 2) may hold spaces and parentheses: the
     * fields after it start after its LAST ')'.
     */
    public static Optional<ProcStat> parseStat(int pid, String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0 || close + 2 >= stat.length()) {
            return Optional.empty();
        }
        String[] fields = stat.substring(close + 2).trim().split(" ");
        if (fields.length < 4 || fields[0].length() != 1) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ProcStat(pid, fields[0].charAt(0), Integer.parseInt(fields[1]),
                    Integer.parseInt(fields[2]), Integer.parseInt(fields[3]), -1));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The real uid from /proc/PID/status's "Uid:\treal\teffective\tsaved\tfs" line, or -1. */
    static int parseUid(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("Uid:")) {
                String[] ids = line.substring(4).trim().split("\\s+");
                return Integer.parseInt(ids[0]);
            }
        }
        return -1;
    }
}
