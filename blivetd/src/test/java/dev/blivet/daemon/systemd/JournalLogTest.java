package dev.blivet.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.Log;
import dev.blivet.daemon.testing.BlivetdProcess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Log lines with journald's priority prefixes when stderr is the journal, plain text with a time otherwise. */
class JournalLogTest {
    private static final Pattern PLAIN = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT[^ ]+Z (ERROR|WARN|INFO|DEBUG) .*");
    private static final Pattern JOURNAL = Pattern.compile("<[3467]>(ERROR|WARN|INFO|DEBUG) .*");

    @TempDir
    Path dir;

    private static List<String> lines(boolean journal, String message) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Log log = new Log(new PrintStream(bytes, true, StandardCharsets.UTF_8), Log.Level.DEBUG, journal);
        log.error(message);
        log.warn(message);
        log.info(message);
        log.debug(message);
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void eachLevelHasItsSdDaemonPriority() {
        assertEquals(List.of("<3>ERROR job web: x", "<4>WARN job web: x", "<6>INFO job web: x", "<7>DEBUG job web: x"),
                lines(true, "job web: x"));
        for (String line : lines(false, "job web: x")) {
            assertTrue(PLAIN.matcher(line).matches(), line);
        }
    }

    @Test
    void aMessageIsOneLineSoNoneCanForgeAPriority() {
        // A hostile path in a spec, echoed in an error: journald would read "<0>" as an emergency.
        String hostile = "cannot open /tmp/x\n<0>EMERG root password changed\r\n";
        List<String> journal = lines(true, hostile);
        assertEquals(4, journal.size(), journal.toString());
        assertEquals("<3>ERROR cannot open /tmp/x\\n<0>EMERG root password changed\\r\\n", journal.get(0));
        assertEquals(4, lines(false, hostile).size());
    }

    @Test
    void blivetdWritesForTheJournalOnlyWhenStderrIsTheStreamJournalStreamNames() throws Exception {
        // BlivetdProcess sends stderr to this file; it keeps its inode when the process opens it.
        Path journalDir = Files.createDirectories(dir.resolve("journal"));
        Path logFile = Files.createFile(journalDir.resolve("blivetd.log"));
        String stream = JournalStream.id(logFile);
        assertTrue(stream.matches("\\d+:\\d+"), stream);
        try (BlivetdProcess daemon = BlivetdProcess.start(journalDir, Map.of("JOURNAL_STREAM", stream), List.of())) {
            List<String> lines = daemon.log().lines().toList();
            assertTrue(lines.stream().anyMatch(line -> line.startsWith("<6>INFO blivetd ")), daemon.log());
            for (String line : lines) {
                assertTrue(JOURNAL.matcher(line).matches(), "not a journal line: " + line);
            }
        }

        // Inherited from a parent whose stderr was the journal, but this stderr is a file: plain.
        Path plainDir = Files.createDirectories(dir.resolve("plain"));
        try (BlivetdProcess daemon = BlivetdProcess.start(plainDir, Map.of("JOURNAL_STREAM", "8:12345"), List.of())) {
            List<String> lines = daemon.log().lines().toList();
            assertFalse(lines.isEmpty());
            for (String line : lines) {
                assertTrue(PLAIN.matcher(line).matches(), "not a plain line: " + line);
            }
        }
    }
}
