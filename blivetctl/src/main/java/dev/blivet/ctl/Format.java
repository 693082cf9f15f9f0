package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import dev.blivet.common.Signals;
import dev.blivet.common.protocol.JobState;

/** How jobs read for people: one short line each. */
final class Format {
    private Format() {
    }

    /** "web: running, pid 4242", "web: stopped, SIGTERM", "web: failed, exit 1 (restart limit reached: ...)". */
    static String describe(JsonNode job) {
        if (job.hasNonNull(NOTE)) {
            String pid = hasProcess(job) && job.hasNonNull("pid") ? ", pid " + job.get("pid").asInt() : "";
            return job.path("name").asText() + ": " + job.get(NOTE).asText() + pid;
        }
        return job.path("name").asText() + ": " + state(job);
    }

    /** The field blivetctl adds to a job for a request that changed nothing ("already running"). */
    static final String NOTE = "note";

    /** The job with a note: nothing was done, and why ("already stopped"). */
    static JsonNode withNote(JsonNode job, String note) {
        com.fasterxml.jackson.databind.node.ObjectNode copy = job.deepCopy();
        copy.put(NOTE, note);
        return copy;
    }

    /** "running, pid 4242", "exited, exit 4": the part of {@link #describe} after the name. */
    static String state(JsonNode job) {
        StringBuilder line = new StringBuilder(job.path("state").asText());
        if (hasProcess(job) && job.hasNonNull("pid")) {
            line.append(", pid ").append(job.get("pid").asInt());
        } else {
            String exit = lastExit(job);
            if (!exit.isEmpty()) {
                line.append(", ").append(exit);
            }
            String error = error(job);
            if (!error.isEmpty()) {
                line.append(" (").append(error).append(')');
            }
        }
        return line.toString();
    }

    static boolean hasProcess(JsonNode job) {
        try {
            return JobState.fromJson(job.path("state").asText()).hasProcess();
        } catch (IllegalArgumentException e) {
            return false; // a state this blivetctl does not know
        }
    }

    /** "exit 4", "SIGTERM", "SIGSEGV (core dumped)", or "" when the job never exited. */
    static String lastExit(JsonNode job) {
        if (job.hasNonNull("exit_code")) {
            return "exit " + job.get("exit_code").asInt();
        }
        if (job.hasNonNull("exit_signal")) {
            return Signals.name(job.get("exit_signal").asInt())
                    + (job.path("core_dumped").asBoolean(false) ? " (core dumped)" : "");
        }
        return "";
    }

    /** The LAST-EXIT column: the exit and, when there is one, the last error. */
    static String lastExitColumn(JsonNode job) {
        String exit = lastExit(job);
        String error = error(job);
        if (exit.isEmpty() && error.isEmpty()) {
            return "-";
        }
        return exit.isEmpty() ? error : error.isEmpty() ? exit : exit + ": " + error;
    }

    /** The last error, unless it only restates the exit ("exited with exit code 3"). */
    static String error(JsonNode job) {
        String error = job.hasNonNull("last_error") ? job.get("last_error").asText() : "";
        boolean restatesExit = error.startsWith("exited with ") || error.startsWith("killed by signal ");
        return restatesExit && !lastExit(job).isEmpty() ? "" : error;
    }

    /** How long the job's process has run ("3d04h", "2h05m", "4m12s", "9s"), or "-". */
    static String uptime(JsonNode job, long nowMillis) {
        if (!hasProcess(job) || !job.hasNonNull("started_at")) {
            return "-";
        }
        long started = epochMillis(job.get("started_at").asText());
        return started < 0 ? "?" : duration((nowMillis - started) / 1000);
    }

    static String duration(long seconds) {
        long s = Math.max(0, seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m" + twoDigits(s % 60) + "s";
        }
        if (s < 86_400) {
            return s / 3600 + "h" + twoDigits(s % 3600 / 60) + "m";
        }
        return s / 86_400 + "d" + twoDigits(s % 86_400 / 3600) + "h";
    }

    private static String twoDigits(long n) {
        return n < 10 ? "0" + n : Long.toString(n);
    }

    /**
     * Milliseconds since the epoch of the UTC time blivetd writes ("2026-11-21T17:32:21.255063163Z",
     * Instant.toString's form), or -1. By hand: java.time's parser costs more start-up than the rest
     * of the table.
     */
    static long epochMillis(String time) {
        if (time.length() < 20 || time.charAt(4) != '-' || time.charAt(7) != '-' || time.charAt(10) != 'T'
                || time.charAt(13) != ':' || time.charAt(16) != ':' || !time.endsWith("Z")) {
            return -1;
        }
        try {
            long year = Long.parseLong(time.substring(0, 4));
            long month = Long.parseLong(time.substring(5, 7));
            long day = Long.parseLong(time.substring(8, 10));
            long seconds = Long.parseLong(time.substring(11, 13)) * 3600 + Long.parseLong(time.substring(14, 16)) * 60
                    + Long.parseLong(time.substring(17, 19));
            long millis = 0;
            if (time.charAt(19) == '.') {
                String fraction = (time.substring(20, time.length() - 1) + "000").substring(0, 3);
                millis = Long.parseLong(fraction);
            }
            return (daysFromCivil(year, month, day) * 86_400 + seconds) * 1000 + millis;
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            return -1;
        }
    }

    /** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
    static long daysFromCivil(long year, long month, long day) {
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400);
        long yearOfEra = y - era * 400;
        long dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
        return era * 146_097 + dayOfEra - 719_468;
    }

    /**
     * Text a job wrote (its STATUS=) made safe for a terminal: control characters, which could
     * move the cursor or rewrite what root reads, are shown as \xNN.
     */
    static String printable(String text) {
        StringBuilder safe = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (Character.isISOControl(c) || c == 0x2028 || c == 0x2029) {
                safe.append(String.format("\\x%02x", c));
            } else {
                safe.appendCodePoint(c);
            }
        });
        return safe.toString();
    }

    static String pid(JsonNode job) {
        return job.hasNonNull("pid") && hasProcess(job) ? job.get("pid").asText() : "-";
    }

    /** 1536 -> "1.5K", 12582912 -> "12.0M": powers of 1024, as memory_max is written. */
    static String bytes(long bytes) {
        String units = "KMGTPE";
        if (bytes < 1024) {
            return bytes + "B";
        }
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length() - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f%c", value, units.charAt(unit));
    }

    /** The TASKS column: the cgroup's pids.current, else its process count, else "-". */
    static String tasks(JsonNode job) {
        JsonNode tasks = job.path("usage").path("tasks");
        if (tasks.isIntegralNumber()) {
            return tasks.asText();
        }
        return job.path("process_count").isIntegralNumber() ? job.get("process_count").asText() : "-";
    }

    /** The MEMORY column: memory.current, or "-" where the job has no memory accounting. */
    static String memory(JsonNode job) {
        JsonNode current = job.path("usage").path("memory_current");
        return current.isIntegralNumber() ? bytes(current.asLong()) : "-";
    }

    /**
     * One line of what a running job uses, for the human status of named jobs: "3 processes,
     * 5 tasks, cpu 1.25 s, memory 12.0M (peak 20.0M)"; only what the daemon knows.
     */
    static String usage(JsonNode job) {
        List<String> parts = new java.util.ArrayList<>();
        if (job.path("process_count").isIntegralNumber()) {
            int n = job.get("process_count").asInt();
            parts.add(n + (n == 1 ? " process" : " processes"));
        }
        JsonNode usage = job.path("usage");
        if (usage.path("tasks").isIntegralNumber()) {
            parts.add(usage.get("tasks").asLong() + " tasks");
        }
        if (usage.path("cpu_usec").isIntegralNumber()) {
            parts.add(String.format(java.util.Locale.ROOT, "cpu %.2f s", usage.get("cpu_usec").asLong() / 1e6));
        }
        if (usage.path("memory_current").isIntegralNumber()) {
            parts.add("memory " + bytes(usage.get("memory_current").asLong()) + (usage.path("memory_peak").isIntegralNumber()
                    ? " (peak " + bytes(usage.get("memory_peak").asLong()) + ")" : ""));
        }
        if (usage.path("oom_kills").asLong(0) > 0) {
            parts.add(usage.get("oom_kills").asLong() + " killed at the memory limit");
        }
        return String.join(", ", parts);
    }
}
