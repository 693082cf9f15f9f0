package dev.blivet.daemon;

import dev.blivet.daemon.systemd.JournalStream;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/**
 * blivetd's log: one line per event on stderr, where systemd's journal or a terminal collects it.
 * On a terminal (or a file) each line starts with a timestamp and the level. When stderr is the
 * journal ($JOURNAL_STREAM names it), each line starts instead with its sd-daemon(3) priority,
 * {@code <3>} to {@code <7>}, which journald reads as the entry's priority and strips; the journal
 * stamps entries itself. A message is always one line: a newline in it (a path, a client's text)
 * is written as {@code \n}, so nobody can forge a line, let alone one with a priority of its own.
 */
public final class Log {
    public enum Level {
        ERROR(3), WARN(4), INFO(6), DEBUG(7);

        /** Computed once: a line costs one concatenation more than its message. */
        private final String journalPrefix;
        private final String plainPrefix;

        Level(int priority) {
            journalPrefix = "<" + priority + ">" + name() + " ";
            plainPrefix = " " + name() + " ";
        }
    }

    private final PrintStream out;
    private final Level threshold;
    private final boolean journal;
    /** Every line is written at this level or below it: DEBUG for {@link #demoted}'s. */
    private final Level ceiling;

    public Log(PrintStream out, Level threshold) {
        this(out, threshold, false);
    }

    /** @param journal {@code out} is a stream into the journal: priority prefixes, no timestamps */
    public Log(PrintStream out, Level threshold, boolean journal) {
        this(out, threshold, journal, Level.ERROR);
    }

    private Log(PrintStream out, Level threshold, boolean journal, Level ceiling) {
        this.out = out;
        this.threshold = threshold;
        this.journal = journal;
        this.ceiling = ceiling;
    }

    /**
     * This log, every line of it at debug level: for the start rehearsal at boot, whose job's
     * lines ("started", "ended") are no event an operator should see (docs/architecture.md).
     */
    public Log demoted() {
        return new Log(out, threshold, journal, Level.DEBUG);
    }

    /** blivetd's log on stderr, in the journal's format when stderr is the journal. */
    public static Log toStderr(Level threshold, Map<String, String> env) {
        return new Log(System.err, threshold, JournalStream.isStderr(env.get(JournalStream.ENV)));
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

    private void write(Level asked, String message) {
        Level level = asked.ordinal() < ceiling.ordinal() ? ceiling : asked;
        if (enabled(level)) {
            String line = oneLine(message);
            out.println(journal ? level.journalPrefix + line : Instant.now() + level.plainPrefix + line);
        }
    }

    private static String oneLine(String message) {
        if (message.indexOf('\n') < 0 && message.indexOf('\r') < 0) {
            return message;
        }
        return message.replace("\r", "\\r").replace("\n", "\\n");
    }
}
