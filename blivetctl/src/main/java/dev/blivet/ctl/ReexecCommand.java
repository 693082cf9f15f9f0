package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.CliExit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;

@Command(name = "reexec", modelTransformer = ExitCodeList.class,
        description = {"Replace blivetd's JVM with a new one from the code on disk (root, or the user a blivetd of its own runs as), every job kept.",
                "Jobs keep running with their pids; clients that connect meanwhile wait and are answered by the new"
                        + " JVM. Returns once the new JVM answers, and prints its pid. Needs blivetd's keeper"
                        + " (bin/blivetd and the package start it). After a package upgrade: see blivetd(8)."},
        footer = {"", "Examples:",
                "  sudo blivetctl reexec",
                "  blivetd 0.1.0 (protocol 1, pid 4711; was pid 812) at /run/blivetd/blivetd.sock"})
final class ReexecCommand extends DaemonCommand {
    /** A JVM start on a loaded machine takes seconds; a new JVM that fails keeps being retried by the keeper. */
    private static final long NEW_JVM_SECONDS = 120;

    @Override
    void run(ControlClient client) throws CliException {
        JsonNode old = client.call(client.request("reexec"));
        String oldPid = old.path("pid").asText();
        // Waits in its own thread: a connect lands in the socket's backlog and blocks until the
        // new JVM accepts, and a read from the JDK's channel has no timeout of its own.
        CompletableFuture<JsonNode> answer = CompletableFuture.supplyAsync(() -> newJvm(oldPid), runnable -> {
            Thread waiter = new Thread(runnable, "blivetctl-reexec");
            waiter.setDaemon(true);
            waiter.start();
        });
        JsonNode pong;
        try {
            pong = answer.get(NEW_JVM_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new CliException(CliExit.UNREACHABLE, "blivetd (pid " + oldPid + ") exited for the re-exec, but no new"
                    + " JVM answered within " + NEW_JVM_SECONDS + " s: its log (journalctl -u blivetd) says why", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof CliException cli ? cli
                    : new CliException(CliExit.ERROR, "waiting for the new blivetd: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(CliExit.ERROR, "interrupted while waiting for the new blivetd", e);
        }
        if (main.json) {
            ((ObjectNode) pong).put("previous_pid", old.path("pid").asLong());
            main.printJson(pong);
        } else {
            main.out().println("blivetd " + pong.path("version").asText() + " (protocol " + pong.path("protocol").asText()
                    + ", pid " + pong.path("pid").asText() + "; was pid " + oldPid + ") at " + client.socket());
            main.out().flush();
        }
    }

    /** Pings until a JVM other than {@code oldPid} answers (the old one may still accept for an instant). */
    private JsonNode newJvm(String oldPid) {
        while (true) {
            try (ControlClient next = main.connect()) {
                JsonNode pong = next.call(next.request("ping"));
                if (!pong.path("pid").asText().equals(oldPid)) {
                    return pong;
                }
            } catch (CliException e) {
                // the old JVM closed this connection on its way out: ask again
            }
            try {
                Thread.sleep(20); // only between an old JVM's last answers: the new one is waited for in the backlog
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
