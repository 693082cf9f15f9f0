package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.Version;
import dev.blivet.common.protocol.Protocol;
import picocli.CommandLine.Command;

@Command(name = "version", modelTransformer = ExitCodeList.class,
        description = {"Show the versions of blivetctl and of the blivetd it reaches.",
                "'blivetctl --version' shows blivetctl's alone, without asking blivetd."},
        footer = {"", "Examples:",
                "  blivetctl version",
                "  blivetctl 0.1.0 (protocol 1)",
                "  blivetd 0.1.0 (protocol 1, pid 812) at /run/blivetd/blivetd.sock; uid 0"})
final class VersionCommand extends DaemonCommand {
    /** blivetctl's own version first: it is known even when blivetd is not reachable. */
    @Override
    public Void call() throws CliException {
        Main main = (Main) spec.root().userObject();
        if (!main.json) {
            main.out().println("blivetctl " + Version.get() + " (protocol " + Protocol.VERSION + ")");
            main.out().flush();
        }
        return super.call();
    }

    @Override
    void run(ControlClient client) throws CliException {
        JsonNode pong = client.call(client.request("ping"));
        if (main.json) {
            ObjectNode document = Json.object();
            document.putObject("blivetctl").put("version", Version.get()).put("protocol", Protocol.VERSION);
            ObjectNode daemon = document.putObject("blivetd");
            daemon.setAll((ObjectNode) pong);
            daemon.put("socket", client.socket().toString());
            main.printJson(document);
        } else {
            main.out().println(PingCommand.describe(pong, client));
            main.out().flush();
        }
    }
}
