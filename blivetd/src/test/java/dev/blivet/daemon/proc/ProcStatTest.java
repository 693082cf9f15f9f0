package dev.blivet.daemon.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /proc/PID/stat is read as the kernel writes it, and a process's own command name cannot mislead it. */
class ProcStatTest {
    private static final String TAIL = " 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 0 0";

    @TempDir
    Path tmp;

    @Test
    void readsALiveProcessAsProcShowsIt() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        String line = Files.readString(Path.of("/proc/self/stat"));
        String[] fields = line.substring(line.lastIndexOf(')') + 2).split(" ");
        ProcStat stat = ProcStat.of(self);
        // Not the state: the main thread's, which may change between two reads.
        assertEquals(List.of(self, Integer.parseInt(fields[1]), Integer.parseInt(fields[2]), Integer.parseInt(fields[3]),
                Long.parseLong(fields[19])), List.of(stat.pid(), stat.ppid(), stat.pgid(), stat.session(), stat.startTime()));
        assertTrue(stat.alive());
        assertEquals(stat.startTime(), ProcStat.of(Path.of("/proc"), self).startTime(), "the same under an explicit /proc");
        assertEquals(Integer.parseInt(Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow().split("\\s+")[1]),
                ProcStat.realUid(Path.of("/proc"), self));
        assertNull(ProcStat.of(Integer.MAX_VALUE), "no such process");
        assertNull(ProcStat.of(tmp, 42), "no such process under another /proc");
        assertEquals(-1, ProcStat.realUid(tmp, 42));
    }

    /** The command name is the process's to choose: spaces, parentheses and digits in it change nothing. */
    @Test
    void parsesAfterTheLastParenthesisAndRefusesWhatIsNotAStatLine() {
        ProcStat expected = new ProcStat(42, 'S', 7, 40, 30, 123456);
        assertEquals(expected, parse("42 (evil) Z 1 1 1 (x) S 7 40 30" + TAIL + "\n"));
        assertEquals(expected, parse("42 (a) 1 2 (b) ) S 7 40 30" + TAIL));
        assertNull(parse("42 (x) S 7 40 30 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0"), "cut before field 22");
        assertNull(parse("42 (x) S 7 4x 30" + TAIL), "a group that is no number");
        assertNull(parse("42 (x) S 7 40 99999999999" + TAIL), "a session past an int");
        assertNull(parse("42 (x) S 7 40 30 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 -5"), "a negative start time");
        assertNull(parse("42 (x) S 7 40 30 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999"), "overflow");
        assertNull(parse("42 (x) SS 7 40 30" + TAIL), "a state of more than one letter");
        assertNull(parse("42 (truncated"));
        assertNull(parse("42 no parenthesis"));
        assertNull(parse("42 (x)"));
        byte[] notUtf8 = ("42 (\u00ff\u00fe) S 7 40 30" + TAIL).getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(expected, ProcStat.parse(42, notUtf8, notUtf8.length),
                "a command name that is not UTF-8 (a String decode would throw) hides nothing");
    }

    @Test
    void theRealUidIsTheFirstOfStatusUids() {
        assertEquals(1000, ProcStat.parseUid("Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n"));
        assertEquals(-1, ProcStat.parseUid("Name:\tx\nUid:\tnobody\n"));
        assertEquals(-1, ProcStat.parseUid("Name:\tx\n"));
    }

    private static ProcStat parse(String line) {
        byte[] bytes = line.getBytes(StandardCharsets.US_ASCII);
        return ProcStat.parse(42, bytes, bytes.length);
    }
}
