package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.CliExit;
import dev.blivet.common.protocol.JobState;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "status", modelTransformer = ExitCodeList.class,
        description = {"Show jobs: state, pid, uptime, restarts, tasks, memory, last exit; one line each.",
                "With NAMEs, also each running job's processes and what it uses (cpu, memory, tasks).",
                "With NAMEs, exits with 3 unless every one of them is running (as 'systemctl status' does)."},
        footer = {"", "Examples:",
                "  blivetctl status",
                "  NAME     STATE    PID   UPTIME  RESTARTS  TASKS  MEMORY  LAST-EXIT",
                "  sleeper  running  4242  2h05m   0         1      312.0K  -",
                "  flaky    failed   -     -       3         -      -       exit 3: restart limit reached",
                "  redis    running  4250  1h12m   0         5      8.4M    -",
                "",
                "  redis: Ready to accept connections       its sd-notify STATUS=",
                "",
                "  blivetctl status web || echo 'web is down'",
                "  blivetctl status web --json | jq -r .state"})
final class StatusCommand extends DaemonCommand {
    @Parameters(paramLabel = "NAME", arity = "0..*", description = "Jobs to show (default: every job you may see).")
    List<String> names = List.of();

    @Override
    void run(ControlClient client) throws CliException {
        if (names.isEmpty()) {
            JsonNode result = client.call(client.request("status"));
            List<JsonNode> jobs = new ArrayList<>();
            for (JsonNode job : result.path("jobs")) {
                jobs.add(job);
            }
            if (main.json) {
                main.printJson(result);
            } else if (jobs.isEmpty()) {
                main.out().println("no jobs" + (Uid.effective() == 0 ? "" : " (you see only your own: you are not root)"));
                main.out().flush();
            } else {
                table(jobs);
            }
            return;
        }
        List<JsonNode> jobs = new ArrayList<>();
        ArrayNode errors = Json.array();
        CliException first = null;
        for (String name : names) {
            try {
                jobs.add(client.call(client.request("status").put("name", name)));
            } catch (CliException e) {
                if (e.exit() == CliExit.UNREACHABLE || names.size() == 1) {
                    throw e;
                }
                errors.addObject().put("name", name).set("error", Failures.errorDocument(e).get("error"));
                first = first == null ? e : first;
            }
        }
        if (main.json) {
            if (names.size() == 1) {
                main.printJson(jobs.get(0));
            } else {
                ObjectNode document = Json.object();
                document.putArray("jobs").addAll(jobs);
                document.set("errors", errors);
                main.printJson(document);
            }
        } else if (!jobs.isEmpty()) {
            table(jobs);
        }
        if (first != null) {
            if (!main.json) {
                for (JsonNode error : errors) {
                    main.err().println("blivetctl: " + error.path("error").path("message").asText());
                }
                main.err().flush();
            }
            throw CliException.reported(first.exit());
        }
        for (JsonNode job : jobs) {
            if (!job.path("state").asText().equals(JobState.RUNNING.jsonName())) {
                throw CliException.reported(CliExit.NOT_RUNNING);
            }
        }
    }

    /** Each named job's usage and processes, under the table: "web: 3 processes, ..." then "  PID  COMMAND". */
    private void processes(List<JsonNode> jobs) {
        for (JsonNode job : jobs) {
            if (!job.has("processes")) {
                continue;
            }
            main.out().println();
            String usage = Format.usage(job);
            main.out().println(job.path("name").asText() + (usage.isEmpty() ? "" : ": " + usage));
            Table table = new Table("  PID", "COMMAND");
            for (JsonNode process : job.get("processes")) {
                table.add("  " + process.path("pid").asText(), Format.printable(process.path("command").asText()));
            }
            table.print(main.out(), Table.terminalWidth(main.env));
            int more = job.path("process_count").asInt(0) - job.get("processes").size();
            if (more > 0) {
                main.out().println("  ... and " + more + " more");
            }
        }
        main.out().flush();
    }

    private void table(List<JsonNode> jobs) {
        long now = System.currentTimeMillis();
        Table table = new Table("NAME", "STATE", "PID", "UPTIME", "RESTARTS", "TASKS", "MEMORY", "LAST-EXIT");
        for (JsonNode job : jobs) {
            table.add(job.path("name").asText(), job.path("state").asText(), Format.pid(job), Format.uptime(job, now),
                    job.path("restarts").asText("0"), Format.tasks(job), Format.memory(job), Format.lastExitColumn(job));
        }
        table.print(main.out(), Table.terminalWidth(main.env));
        // Said once, under the table: without cgroups every job shares the same weakness.
        // A loop, not a stream: the first lambda of a run costs more start-up than the table.
        for (JsonNode job : jobs) {
            String note = job.path("containment_note").asText("");
            if (!note.isEmpty()) {
                main.out().println("note: " + note);
                break;
            }
        }
        processes(jobs);
        // What sd-notify jobs say of themselves (STATUS=), too long for a column: one line each.
        boolean first = true;
        for (JsonNode job : jobs) {
            String status = job.path("status").asText("");
            if (!status.isEmpty()) {
                if (first) {
                    main.out().println();
                    first = false;
                }
                main.out().println(job.path("name").asText() + ": " + Format.printable(status));
            }
        }
        main.out().flush();
    }
}
