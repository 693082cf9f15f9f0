package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.Signals;
import dev.blivet.common.protocol.JobState;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "stop", modelTransformer = ExitCodeList.class,
        description = {"Stop jobs and wait until they are gone.",
                "Sends the job's stop_signal (default SIGTERM) to its process group, then SIGKILL after its"
                        + " stop_timeout; returns once blivetd has reaped it. A job that is not running is left as it is."},
        footer = {"", "Examples:",
                "  blivetctl stop web                          prints: web: stopped, SIGTERM",
                "  blivetctl stop web worker --timeout 2       SIGKILL after 2 s",
                "  blivetctl stop web --signal INT",
                "  blivetctl stop --all"})
final class StopCommand extends DaemonCommand {
    @Parameters(paramLabel = "NAME", arity = "0..*", description = "The jobs to stop.")
    List<String> names = List.of();

    @Option(names = "--all", description = "Stop every job you may act on (all of them, as root).")
    boolean all;

    @Option(names = "--signal", paramLabel = "SIG", description = "Signal to stop with instead of the job's stop_signal"
            + " (TERM, SIGINT, 2, ...).")
    String signal;

    @Option(names = "--timeout", paramLabel = "SECONDS",
            description = "Send SIGKILL after SECONDS instead of the job's stop_timeout.")
    Double timeout;

    @Override
    void checkArguments() {
        if (names.isEmpty() == !all) {
            throw usage(all ? "give job names or --all, not both" : "which job? give a NAME, or --all");
        }
        if (signal != null && Signals.number(signal).isEmpty()) {
            throw usage("unknown signal: " + signal + " (a name such as TERM or SIGINT, or a number)");
        }
        Seconds.check(spec.commandLine(), "--timeout", timeout);
    }

    @Override
    void run(ControlClient client) throws CliException {
        if (!all) {
            forEach(names, name -> stop(client, name), Format::describe);
            return;
        }
        JsonNode result = client.call(request(client).put("all", true));
        if (main.json) {
            main.printJson(result);
        } else {
            for (JsonNode job : result.path("jobs")) {
                main.out().println(Format.describe(job));
            }
            main.out().flush();
        }
    }

    /** Stops one job; one that had no process gets a note, so that nobody waits for a stop that was not needed. */
    private JsonNode stop(ControlClient client, String name) throws CliException {
        JsonNode before = client.call(client.request("status").put("name", name));
        JsonNode stopped = client.call(request(client).put("name", name));
        if (!Format.hasProcess(before)) {
            String was = before.path("state").asText();
            return Format.withNote(stopped, "already stopped" + (was.equals(JobState.STOPPED.jsonName()) ? ""
                    : " (it was " + Format.state(before) + ")"));
        }
        return stopped;
    }

    private ObjectNode request(ControlClient client) {
        ObjectNode request = client.request("stop");
        if (signal != null) {
            request.put("signal", Signals.number(signal).getAsInt());
        }
        if (timeout != null) {
            request.put("timeout", timeout);
        }
        return request;
    }
}
