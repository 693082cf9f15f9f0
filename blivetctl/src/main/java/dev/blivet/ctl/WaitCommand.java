package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.CliExit;
import dev.blivet.common.protocol.JobState;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "wait", modelTransformer = ExitCodeList.class,
        description = {"Wait until a job is ready, has ended, or is stopped.",
                "  ready    running (exit code 3 if it fails or exits instead)",
                "  exited   not running any more: exited, failed or stopped",
                "  stopped  stopped by a stop request"},
        footer = {"", "Examples:",
                "  blivetctl start web.json --no-wait",
                "  blivetctl wait web --for ready --timeout 30",
                "  blivetctl wait batch --for exited --timeout 3600 --json | jq .exit_code"})
final class WaitCommand extends DaemonCommand {
    /** The condition names and the states blivetd is asked to wait for. */
    private static final Map<String, List<JobState>> CONDITIONS = Map.of(
            "ready", List.of(JobState.RUNNING, JobState.FAILED, JobState.EXITED),
            "exited", List.of(JobState.EXITED, JobState.FAILED, JobState.STOPPED),
            "stopped", List.of(JobState.STOPPED));

    static final class Conditions implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return List.of("ready", "exited", "stopped").iterator();
        }
    }

    @Parameters(paramLabel = "NAME", description = "The job.")
    String name;

    @Option(names = "--for", required = true, paramLabel = "CONDITION", completionCandidates = Conditions.class,
            description = "ready, exited or stopped.")
    String condition;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Give up after SECONDS with exit code 6 (default ${DEFAULT-VALUE}).")
    double timeout;

    @Override
    void checkArguments() {
        if (!CONDITIONS.containsKey(condition)) {
            throw usage("--for must be ready, exited or stopped: " + condition);
        }
        Seconds.check(spec.commandLine(), "--timeout", timeout);
    }

    @Override
    void run(ControlClient client) throws CliException {
        JsonNode job = client.call(client.request("wait").put("name", name).put("timeout", timeout)
                .set("state", Json.strings(CONDITIONS.get(condition).stream().map(JobState::jsonName).toList())));
        print(job, Format::describe);
        if (condition.equals("ready") && !job.path("state").asText().equals(JobState.RUNNING.jsonName())) {
            main.err().println("blivetctl: " + name + " will not be ready: it is " + Format.state(job));
            main.err().flush();
            throw CliException.reported(CliExit.NOT_RUNNING);
        }
    }
}
