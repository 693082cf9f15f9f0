package dev.blivet.daemon.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.blivet.daemon.launch.ExitStatus;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The run records written by hand read back as written. */
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
}
