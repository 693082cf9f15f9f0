package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.Signals;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "signal", modelTransformer = ExitCodeList.class,
        description = {"Send a signal to a job.", "To its main process, or with --group to its whole process group."},
        footer = {"", "Examples:",
                "  blivetctl signal web HUP            prints: sent SIGHUP to web (pid 4242)",
                "  blivetctl signal web USR1 --group"})
final class SignalCommand extends DaemonCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The job.")
    String name;

    @Parameters(index = "1", paramLabel = "SIG", description = "A signal name (HUP, SIGUSR1) or number.")
    String signal;

    @Option(names = "--group", description = "Signal every process in the job's process group.")
    boolean group;

    private int number;

    @Override
    void checkArguments() {
        number = Signals.number(signal).orElseThrow(() -> usage("unknown signal: " + signal
                + " (a name such as HUP or SIGUSR1, or a number)"));
    }

    @Override
    void run(ControlClient client) throws CliException {
        forEach(List.of(name), job -> client.call(client.request("signal").put("name", job).put("signal", number)
                .put("group", group)), this::describe);
    }

    private String describe(JsonNode job) {
        return "sent " + Signals.name(number) + " to " + job.path("name").asText()
                + (group ? " (process group " + job.path("pgid").asText("?") + ")" : " (pid " + job.path("pid").asText("?") + ")");
    }
}
