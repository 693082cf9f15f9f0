package dev.blivet.ctl;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "remove", modelTransformer = ExitCodeList.class,
        description = {"Forget jobs that are not running.",
                "A job from the jobs directory comes back at the next reload while its file is there."},
        footer = {"", "Examples:",
                "  blivetctl stop web && blivetctl remove web"})
final class RemoveCommand extends DaemonCommand {
    @Parameters(paramLabel = "NAME", arity = "1..*", description = "The jobs to remove.")
    List<String> names;

    @Override
    void run(ControlClient client) throws CliException {
        forEach(names, name -> client.call(client.request("remove").put("name", name)),
                job -> job.path("name").asText() + ": removed");
    }
}
