package dev.blivet.daemon.keeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * blivet-keeper.c against KeeperLink: the link's message bytes and the longest notification
 * relayed. Either side changed alone fails here, before a keeper runs with the other.
 */
class KeeperProtocolTest {
    private static final Path SOURCE = Path.of("src/main/c/blivet-keeper.c");

    private static Map<String, Integer> enumerators() throws IOException {
        Map<String, Integer> values = new TreeMap<>();
        Matcher m = Pattern.compile("\\b(MSG_\\w+|NOTIFY_MAX) = (?:(\\d+)|'(.)')").matcher(Files.readString(SOURCE));
        while (m.find()) {
            values.put(m.group(1), m.group(2) != null ? Integer.parseInt(m.group(2)) : (int) m.group(3).charAt(0));
        }
        return values;
    }

    @Test
    void theLinkSpeaksTheKeepersBytes() throws IOException {
        Map<String, Integer> java = new TreeMap<>(Map.of(
                "MSG_REGISTER", (int) KeeperLink.REGISTER,
                "MSG_STOPPING", (int) KeeperLink.STOPPING,
                "MSG_REEXEC", (int) KeeperLink.REEXEC,
                "MSG_NOTIFY", (int) KeeperLink.NOTIFY,
                "MSG_ACCEPTED", (int) KeeperLink.ACCEPTED,
                "MSG_EXITS", (int) KeeperLink.EXITS,
                "NOTIFY_MAX", KeeperLink.NOTIFY_MAX));
        Map<String, Integer> c = enumerators();
        c.remove("MSG_REPLACE"); // SIGUSR2's twin; the JVM never sends it
        assertEquals(java, c);
    }

    @Test
    void theKeeperSetsTheVariablesTheJvmReads() throws IOException {
        String source = Files.readString(SOURCE);
        assertTrue(source.contains("\"" + KeeperLink.FD_ENV + "=4\""), KeeperLink.FD_ENV);
        assertTrue(source.contains("\"" + KeeperLink.NOTIFY_ENV + "=1\""), KeeperLink.NOTIFY_ENV);
    }
}
