package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.CliExit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

@Command(name = "reload", modelTransformer = ExitCodeList.class,
        description = {"Make blivetd read its jobs directory again (root, or the user a blivetd of its own runs as).",
                "As SIGHUP to blivetd does.",
                "New files add jobs (started if autostart), changed specs apply at the job's next start, jobs whose"
                        + " file is gone are stopped and removed. Exits with 8 if some file was skipped as invalid."},
        footer = {"", "Examples:",
                "  sudo blivetctl reload",
                "  added: web",
                "  changed: -",
                "  removed: old-worker"})
final class ReloadCommand extends DaemonCommand {
    @Override
    void run(ControlClient client) throws CliException {
        JsonNode report = client.call(client.request("reload"));
        JsonNode errors = report.path("errors");
        if (main.json) {
            main.printJson(report);
        } else {
            for (String field : List.of("added", "changed", "removed")) {
                List<String> names = new ArrayList<>();
                report.path(field).forEach(name -> names.add(name.asText()));
                main.out().println(field + ": " + (names.isEmpty() ? "-" : String.join(", ", names)));
            }
            main.out().flush();
        }
        for (JsonNode warning : report.path("warnings")) {
            main.err().println("blivetctl: warning: " + warning.asText());
            main.err().flush();
        }
        if (errors.isEmpty()) {
            return;
        }
        for (Map.Entry<String, JsonNode> error : (Iterable<Map.Entry<String, JsonNode>>) errors::fields) {
            main.err().println("blivetctl: skipped " + error.getKey() + ": " + error.getValue().asText());
        }
        main.err().println("  'blivetctl validate FILE' checks a spec before the next reload.");
        main.err().flush();
        throw CliException.reported(CliExit.INVALID_SPEC);
    }
}
