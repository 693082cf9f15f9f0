package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The last lines come from a bounded window, each line and the whole answer bounded too. */
class LogTailTest {
    @TempDir
    Path tmp;

    @Test
    void aLongLineInTheWindowIsCutAndMarkedAndAPartialLineIsLeftToTheFollower() throws Exception {
        Path file = tmp.resolve("out");
        String wide = "b".repeat(20_000);
        Files.writeString(file, "a\n" + wide + "\nc\npartial");
        LogTail tail = new LogTail(file, tmp);
        LogTail.Tail last = tail.lastLines(10);
        assertEquals(List.of("a", wide.substring(0, LogTail.MAX_LINE) + LogTail.CUT_MARK, "c"), last.lines());
        assertEquals(Files.size(file) - "partial".length(), last.end(), "following starts at the partial line");
        assertFalse(last.midLine());
        assertEquals(List.of("c"), tail.lastLines(1).lines());
        assertEquals(List.of(), tail.lastLines(0).lines());
    }

    @Test
    void theAnswerStaysWithinItsJsonBudgetHoweverTheLinesEscape() throws Exception {
        Path file = tmp.resolve("out");
        String controls = "\u0001".repeat(1000) + "\n"; // 6 chars each in JSON
        Files.writeString(file, controls.repeat(100), StandardCharsets.UTF_8);
        List<String> lines = new LogTail(file, tmp).lastLines(100).lines();
        assertEquals(LogTail.TAIL_JSON_BUDGET / 6003, lines.size(), "only the newest lines that fit");
        assertTrue(lines.stream().allMatch(line -> line.length() == 1000));
    }
}
