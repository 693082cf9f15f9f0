package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.CliExit;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "events", modelTransformer = ExitCodeList.class,
        description = {"Print jobs' state changes as they happen, until Ctrl-C.",
                "With --json, each line is blivetd's event: {\"event\":\"state\",\"job\":{...}}."},
        footer = {"", "Examples:",
                "  blivetctl events",
                "  17:02:11.318  web: starting",
                "  17:02:11.342  web: running, pid 4242",
                "  17:05:40.007  web: exited, exit 1",
                "",
                "  blivetctl events web --count 1 --json      wait for web's next change"})
final class EventsCommand extends DaemonCommand {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    @Parameters(paramLabel = "NAME", arity = "0..*", description = "Only these jobs (default: every job you may see).")
    List<String> names = List.of();

    @Option(names = "--count", paramLabel = "N", description = "Exit after N events.")
    Integer count;

    @Override
    void checkArguments() {
        if (count != null && count < 1) {
            throw usage("--count must be 1 or more: " + count);
        }
    }

    @Override
    void run(ControlClient client) throws CliException {
        client.call(client.request("events"));
        main.err().println("watching blivetd at " + client.socket() + " for job state changes (Ctrl-C to stop)");
        main.err().flush();
        int seen = 0;
        JsonNode event;
        while ((event = client.next()) != null) {
            JsonNode job = event.path("job");
            if (!names.isEmpty() && !names.contains(job.path("name").asText())) {
                continue;
            }
            if (main.json) {
                main.printJson(event);
            } else {
                main.out().println(LocalTime.now().format(TIME) + "  " + Format.describe(job));
                main.out().flush();
            }
            if (count != null && ++seen >= count) {
                return;
            }
        }
        throw new CliException(CliExit.UNREACHABLE, "blivetd at " + client.socket() + " ended the stream (did it stop?)");
    }
}
