package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.CliExit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "logs", modelTransformer = ExitCodeList.class,
        description = {"Show a job's output: the last lines of its stdout (or stderr) file.",
                "With -f, go on printing its new lines until Ctrl-C.",
                "Only jobs whose spec names a \"stdout\" (or \"stderr\") file have logs."},
        footer = {"", "Examples:",
                "  blivetctl logs web                          its stdout's last 10 lines",
                "  blivetctl logs web -n 100 --stderr",
                "  blivetctl logs web -f                       follow until Ctrl-C",
                "  blivetctl logs web -f --json                {\"file\":...,\"lines\":[...]}, then",
                "                                              {\"event\":\"log\",\"line\":...} each"})
final class LogsCommand extends DaemonCommand {
    @Parameters(paramLabel = "NAME", description = "The job.")
    String name;

    @Option(names = {"-n", "--lines"}, paramLabel = "N", defaultValue = "10",
            description = "How many of the last lines to show (default ${DEFAULT-VALUE}).")
    int lines;

    @Option(names = {"-f", "--follow"}, description = "Keep printing lines as the job writes them, until Ctrl-C.")
    boolean follow;

    @Option(names = "--stderr", description = "The job's stderr file instead of its stdout.")
    boolean stderr;

    @Override
    void checkArguments() {
        if (lines < 0 || lines > 100_000) {
            throw usage("-n must be from 0 to 100000: " + lines);
        }
    }

    @Override
    void run(ControlClient client) throws CliException {
        JsonNode result = client.call(client.request("logs").put("name", name).put("lines", lines)
                .put("stream", stderr ? "stderr" : "stdout").put("follow", follow));
        if (main.json) {
            main.printJson(result);
        } else {
            for (JsonNode line : result.path("lines")) {
                main.out().println(line.asText());
            }
            main.out().flush();
        }
        if (!follow) {
            return;
        }
        JsonNode event;
        while ((event = client.next()) != null) {
            if (main.json) {
                main.printJson(event);
            } else if (event.path("event").asText().equals("log")) {
                main.out().println(event.path("line").asText());
                main.out().flush();
            }
        }
        throw new CliException(CliExit.UNREACHABLE, "blivetd at " + client.socket() + " ended the stream (did it stop?)");
    }
}
