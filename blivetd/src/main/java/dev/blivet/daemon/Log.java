package dev.blivet.daemon;

import java.io.PrintStream;
import java.time.Instant;
import java.util.Locale;

/**
 * blivetd's log: one line per event on stderr, where systemd's journal or a terminal collects it.
 * Timestamps are included because a terminal has none; the journal adds its own as well.
 */
public final class Log {
    public enum Level { ERROR, WARN, INFO, DEBUG }

    private final PrintStream out;
    private final Level threshold;

    public Log(PrintStream out, Level threshold) {
        this.out = out;
        this.threshold = threshold;
    }

    public static Level parseLevel(String text) {
        return Level.valueOf(text.toUpperCase(Locale.ROOT));
    }

    public boolean enabled(Level level) {
        return level.ordinal() <= threshold.ordinal();
    }

    public void error(String message) {
        write(Level.ERROR, message);
    }

    public void warn(String message) {
        write(Level.WARN, message);
    }

    public void info(String message) {
        write(Level.INFO, message);
    }

    public void debug(String message) {
        write(Level.DEBUG, message);
    }

    private void write(Level level, String message) {
        if (enabled(level)) {
            out.println(Instant.now() + " " + level + " " + message);
        }
    }
}
