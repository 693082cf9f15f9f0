package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

@Command(name = "list", modelTransformer = ExitCodeList.class,
        description = {"List jobs: name, state, pid and owner's uid.",
                "Lists the jobs you may see: every job, as root; your own, as anyone else."},
        footer = {"", "Examples:",
                "  blivetctl list",
                "  blivetctl list --json | jq -r '.jobs[].name'"})
final class ListCommand extends DaemonCommand {
    @Override
    void run(ControlClient client) throws CliException {
        JsonNode result = client.call(client.request("list"));
        if (main.json) {
            main.printJson(result);
            return;
        }
        Table table = new Table("NAME", "STATE", "PID", "OWNER");
        for (JsonNode job : result.path("jobs")) {
            table.add(job.path("name").asText(), job.path("state").asText(), Format.pid(job),
                    job.path("owner").asText());
        }
        table.print(main.out(), Table.terminalWidth(main.env));
    }
}
