package dev.blivet.daemon.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.launch.ExitStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The run records written by hand read back as written; /proc/PID/stat is read as the kernel writes it. */
class RunRecordCodecTest {
    private static final String BOOT = "5f7c3b1e-0d2a-4c55-9a51-3f6c3c8e2a10";

    @Test
    void everyShapeOfRunRecordReadsBackAsWritten() throws Exception {
        RecordCodec codec = new RecordCodec();
        List<RunRecord> records = List.of(
                new RunRecord("web.1_x-y", 1, RunRecord.Phase.STARTING, null, null, null, BOOT),
                new RunRecord("web", Long.MAX_VALUE, RunRecord.Phase.STARTING, Integer.MAX_VALUE, 1, Long.MAX_VALUE, BOOT),
                new RunRecord("web", 3, RunRecord.Phase.STOPPING, 4242, 4241, 987654321L, BOOT),
                new RunRecord("web", 4, RunRecord.Phase.BACKOFF, null, null, null, BOOT),
                new RunRecord("web", 5, RunRecord.Phase.ENDED, null, null, null, BOOT, new ExitStatus(3, 0, false)),
                new RunRecord("web", 6, RunRecord.Phase.ENDED, null, null, null, BOOT, new ExitStatus(-1, 11, true)));
        for (RunRecord record : records) {
            byte[] bytes = codec.run(record);
            assertEquals(record, codec.run("where", record.name(), bytes), new String(bytes, StandardCharsets.UTF_8));
        }
    }

    /** Job names cannot hold them, but the encoder does not rely on that: the JSON stays well formed. */
    @Test
    void quotesBackslashesAndControlCharactersAreEscaped() throws Exception {
        RecordCodec codec = new RecordCodec();
        String name = "a\"b\\c\nd\u0001é";
        RunRecord record = new RunRecord(name, 1, RunRecord.Phase.STARTING, null, null, null, "x\"y");
        assertEquals(record, codec.run("where", name, codec.run(record)));
    }

    @Test
    void procStatReadsTheStartTimeAndGroupOfALiveProcessAsProcShowsThem() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        String line = Files.readString(Path.of("/proc/self/stat"));
        String[] fields = line.substring(line.lastIndexOf(')') + 2).split(" ");
        ProcStat stat = ProcStat.of(self);
        assertEquals(Long.parseLong(fields[19]), stat.startTime());
        assertEquals(Integer.parseInt(fields[2]), stat.pgid());
        assertTrue(stat.alive());
        assertNull(ProcStat.of(Integer.MAX_VALUE), "no such process");
    }

    /** The command name is the process's to choose: spaces, parentheses and digits in it change nothing. */
    @Test
    void procStatParsesAfterTheLastParenthesisAndRefusesWhatIsNotAStatLine() {
        String tail = " S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 0 0";
        ProcStat stat = parse("42 (a) 1 2 (b) )" + tail + "\n");
        assertEquals(new ProcStat(42, 'S', 77, 123456), stat);
        assertEquals(new ProcStat(42, 'S', 77, 123456), parse("42 (x)" + tail));
        assertNull(parse("42 (x) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0"), "cut before field 22");
        assertNull(parse("42 (x) S 1 7x 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456"), "a group that is no number");
        assertNull(parse("42 (x) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 -5"), "a negative start time");
        assertNull(parse("42 (x) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999"), "overflow");
        assertNull(parse("42 no parenthesis"));
        assertNull(parse("42 (x)"));
    }

    private static ProcStat parse(String line) {
        byte[] bytes = line.getBytes(StandardCharsets.US_ASCII);
        return ProcStat.parse(42, bytes, bytes.length);
    }
}
