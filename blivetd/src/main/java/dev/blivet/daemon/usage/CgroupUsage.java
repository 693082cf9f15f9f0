package dev.blivet.daemon.usage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads a job cgroup's usage files (cpu.stat, pids.current, memory.current, memory.peak,
 * memory.events). Each is a few bytes the kernel makes on read: cheap enough to read when a
 * status is asked for, never on every event.
 */
public final class CgroupUsage {
    private CgroupUsage() {
    }

    /** What {@code cgroup}'s files say; {@link JobUsage#NONE} when it has none. */
    public static JobUsage read(Path cgroup) {
        if (cgroup == null) {
            return JobUsage.NONE;
        }
        return new JobUsage(keyed(cgroup.resolve("cpu.stat"), "usage_usec"), number(cgroup.resolve("pids.current")),
                number(cgroup.resolve("memory.current")), number(cgroup.resolve("memory.peak")),
                keyed(cgroup.resolve("memory.events"), "oom_kill"));
    }

    /** A file holding one number, or null (no such file, or "max"). */
    static Long number(Path file) {
        try {
            return parse(Files.readString(file).strip());
        } catch (IOException e) {
            return null;
        }
    }

    /** The value of {@code key} in a flat-keyed file ("usage_usec 1234"), or null. */
    static Long keyed(Path file, String key) {
        try {
            return keyed(Files.readAllLines(file), key);
        } catch (IOException e) {
            return null;
        }
    }

    static Long keyed(List<String> lines, String key) {
        for (String line : lines) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 2 && parts[0].equals(key)) {
                return parse(parts[1]);
            }
        }
        return null;
    }

    private static Long parse(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
