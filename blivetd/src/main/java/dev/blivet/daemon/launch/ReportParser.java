package dev.blivet.daemon.launch;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads blivet-spawn's report lines as bytes arrive: "F&lt;pid&gt;" (the daemon was forked),
 * "I&lt;dev&gt; &lt;ino&gt;" (the pidfile it opened), "O1|O2 &lt;dev&gt; &lt;ino&gt;" (its output
 * files), "P&lt;pid&gt;" (it is about to execve) and "E..." (a failure, see {@link HelperFailure}).
 */
final class ReportParser {
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private int forkedPid = -1;
    private int execPid = -1;
    private HelperFailure failure;
    /** A line the helper does not write: a helper of another version, or a bug. */
    private String garbled;
    private FileId pidfileId;
    private FileId stdoutId;
    private FileId stderrId;

    void feed(byte[] bytes, int length) {
        for (int i = 0; i < length; i++) {
            if (bytes[i] == '\n') {
                line(partial.toString(StandardCharsets.UTF_8));
                partial.reset();
            } else {
                partial.write(bytes[i]);
            }
        }
    }

    private void line(String line) {
        if (line.isEmpty()) {
            return;
        }
        String rest = line.substring(1);
        switch (line.charAt(0)) {
            case HelperProtocol.FORKED -> forkedPid = parsePid(rest);
            case HelperProtocol.EXEC -> execPid = parsePid(rest);
            case HelperProtocol.PIDFILE -> pidfileId = parseFileId(rest);
            case HelperProtocol.OUTPUT -> {
                // "1 <dev> <ino>": which file the job's stdout (1) or stderr (2) is
                if (rest.startsWith("1 ")) {
                    stdoutId = parseFileId(rest.substring(2));
                } else if (rest.startsWith("2 ")) {
                    stderrId = parseFileId(rest.substring(2));
                }
            }
            case HelperProtocol.FAILED -> {
                try {
                    failure = HelperFailure.parse(rest);
                } catch (IllegalArgumentException e) {
                    garbled = garbled != null ? garbled : line;
                }
            }
            default -> garbled = garbled != null ? garbled : line;
        }
    }

    private static int parsePid(String digits) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** "dev ino", both unsigned decimal; null if malformed (the pidfile is then never removed). */
    private static FileId parseFileId(String text) {
        int space = text.indexOf(' ');
        try {
            return space < 0 ? null : new FileId(Long.parseUnsignedLong(text.substring(0, space)),
                    Long.parseUnsignedLong(text.substring(space + 1)));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The file the job's stdout is, once reported; null without a stdout file. */
    FileId stdoutId() {
        return stdoutId;
    }

    /** The file the job's stderr is, once reported; null without a stderr file. */
    FileId stderrId() {
        return stderrId;
    }

    /** The pidfile the daemon opened, once it reported it; null without a pidfile. */
    FileId pidfileId() {
        return pidfileId;
    }

    int forkedPid() {
        return forkedPid;
    }

    /** The pid the daemon reported just before execve: the positive report EOF alone is not. */
    int execPid() {
        return execPid;
    }

    boolean failed() {
        return failure != null || garbled != null;
    }

    /** The failure the helper reported, or null (none, or only a garbled line). */
    HelperFailure failure() {
        return failure;
    }

    /** The first line that was not a report the helper writes, or null. */
    String garbled() {
        return garbled;
    }
}
