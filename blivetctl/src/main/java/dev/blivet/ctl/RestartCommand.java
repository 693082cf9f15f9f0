package dev.blivet.ctl;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "restart", modelTransformer = ExitCodeList.class,
        description = "Stop jobs if they run, start them, and wait until they are ready.",
        footer = {"", "Examples:",
                "  blivetctl restart web                       prints: web: running, pid 4250",
                "  blivetctl restart web worker --json"})
final class RestartCommand extends DaemonCommand {
    @Parameters(paramLabel = "NAME", arity = "1..*", description = "The jobs to restart.")
    List<String> names;

    @Override
    void run(ControlClient client) throws CliException {
        forEach(names, name -> client.call(client.request("restart").put("name", name)), Format::describe);
    }
}
