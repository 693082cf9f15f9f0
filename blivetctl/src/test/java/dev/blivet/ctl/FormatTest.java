package dev.blivet.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The hand-made parts: time arithmetic, the table's columns, and the names of the commands. */
class FormatTest {
    @Test
    void epochMillisAgreesWithJavaTime() {
        for (String time : new String[] {"2026-11-21T17:32:21.255063163Z", "1970-01-01T00:00:00Z", "2000-02-29T23:59:59.5Z",
                "2024-03-01T00:00:00.001Z", "2099-12-31T12:00:00.120Z", "1969-07-20T20:17:40Z"}) {
            assertEquals(Instant.parse(time).toEpochMilli(), Format.epochMillis(time), time);
        }
        assertEquals(-1, Format.epochMillis("yesterday"));
    }

    @Test
    void durationsAreShortAndReadable() {
        assertEquals("9s", Format.duration(9));
        assertEquals("4m05s", Format.duration(245));
        assertEquals("2h05m", Format.duration(2 * 3600 + 5 * 60 + 59));
        assertEquals("3d04h", Format.duration(3 * 86_400 + 4 * 3600));
        assertEquals("0s", Format.duration(-3));
    }

    @Test
    void lastExitSaysHowTheJobEnded() {
        assertEquals("exit 3", Format.lastExitColumn(json("{\"exit_code\":3,\"last_error\":\"exited with exit code 3\"}")));
        assertEquals("SIGSEGV (core dumped)", Format.lastExit(json("{\"exit_signal\":11,\"core_dumped\":true}")));
        assertEquals("lock conflict: /x is held", Format.lastExitColumn(json("{\"last_error\":\"lock conflict: /x is held\"}")));
        assertEquals("-", Format.lastExitColumn(json("{}")));
        assertEquals("web: failed, exit 1 (restart limit reached)", Format.describe(json("{\"name\":\"web\","
                + "\"state\":\"failed\",\"exit_code\":1,\"last_error\":\"restart limit reached\"}")));
        assertEquals("web: running, pid 42", Format.describe(json("{\"name\":\"web\",\"state\":\"running\",\"pid\":42,"
                + "\"exit_code\":1}")));
    }

    @Test
    void usageShowsOnlyWhatTheDaemonKnows() {
        JsonNode job = json("{\"process_count\":3,\"usage\":{\"cpu_usec\":1250000,\"tasks\":5,"
                + "\"memory_current\":12582912,\"memory_peak\":20971520}}");
        assertEquals("3 processes, 5 tasks, cpu 1.25 s, memory 12.0M (peak 20.0M)", Format.usage(job));
        assertEquals("5", Format.tasks(job));
        assertEquals("12.0M", Format.memory(job));
        JsonNode uncontained = json("{\"process_count\":1}");
        assertEquals("1 process", Format.usage(uncontained));
        assertEquals("1", Format.tasks(uncontained), "without pids.current: the process count");
        assertEquals("-", Format.memory(uncontained), "no memory accounting: nothing made up");
        assertEquals("-", Format.tasks(json("{}")));
        assertEquals("1023B", Format.bytes(1023));
        assertEquals("1.5K", Format.bytes(1536));
        assertEquals("killed at the memory limit", Format.usage(json("{\"usage\":{\"oom_kills\":2}}")).substring(2));
    }

    @Test
    void jsonRoundTrips() throws Exception {
        String text = "{\"a\":[1,2.5,\"x\\ny\",true,false,null,{}],\"b\":12345678901,\"c\":\"\\u00e9\"}";
        assertEquals(text.replace("\\u00e9", "\u00e9"), Json.write(Json.parse(text)));
    }

    @Test
    void everySubcommandIsRegisteredUnderItsAnnotatedName() {
        for (String name : Commands.names()) {
            assertEquals(name, Commands.create(name).getClass().getAnnotation(Command.class).name());
        }
        assertEquals(Commands.names(), List.copyOf(new CommandLine(new Main()).getSubcommands().keySet()));
        assertEquals(16, Commands.names().size());
        assertEquals("status", Commands.named(new String[] {"--socket", "/x", "--json", "status", "web"}));
        assertEquals(null, Commands.named(new String[] {"--help", "status"}));
        assertEquals(null, Commands.named(new String[] {"help", "status"}));
        assertEquals(Commands.NONE, Commands.named(new String[] {"--version"}));
        assertEquals("", Cli.run("--version").err());
    }

    private static JsonNode json(String text) {
        try {
            return Json.parse(text);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
