package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;

@Command(name = "ping", modelTransformer = ExitCodeList.class,
        description = "Check that blivetd answers: its version, pid, and who you are to it.",
        footer = {"", "Examples:",
                "  blivetctl ping",
                "  blivetd 0.1.0 (protocol 1, pid 812) at /run/blivetd/blivetd.sock; uid 0",
                "  blivetctl ping >/dev/null 2>&1 || echo 'blivetd is down'"})
final class PingCommand extends DaemonCommand {
    @Override
    void run(ControlClient client) throws CliException {
        JsonNode pong = client.call(client.request("ping"));
        if (main.json) {
            ((ObjectNode) pong).put("socket", client.socket().toString());
            main.printJson(pong);
        } else {
            main.out().println(describe(pong, client));
            main.out().flush();
        }
    }

    static String describe(JsonNode pong, ControlClient client) {
        return "blivetd " + pong.path("version").asText() + " (protocol " + pong.path("protocol").asText() + ", pid "
                + pong.path("pid").asText() + ") at " + client.socket() + "; you are uid " + pong.path("uid").asText();
    }
}
