package dev.blivet.daemon.systemd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whether stderr is systemd's journal: systemd sets $JOURNAL_STREAM to "DEV:INODE" of the stream it
 * connected to a service's stdout and stderr (systemd.exec(5)). The variable is inherited by
 * children whose stderr is something else, so it counts only if stderr is that very stream.
 */
public final class JournalStream {
    public static final String ENV = ServiceEnvironment.JOURNAL_STREAM;
    /** stat(2) of this link is fstat(2) of fd 2: the socket, pipe or file itself. */
    private static final Path STDERR = Path.of("/proc/self/fd/2");

    private JournalStream() {
    }

    /** @param value $JOURNAL_STREAM, or null */
    public static boolean isStderr(String value) {
        return value != null && value.equals(id(STDERR));
    }

    /** "DEV:INODE" of the file {@code path} leads to, as systemd writes it; "" if it cannot be read. */
    static String id(Path path) {
        try {
            Map<String, Object> stat = Files.readAttributes(path, "unix:dev,ino");
            return Long.toUnsignedString((Long) stat.get("dev")) + ":" + Long.toUnsignedString((Long) stat.get("ino"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "";
        }
    }
}
