package dev.blivet.daemon.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.NobodyClient;
import dev.blivet.daemon.testing.Proc;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Root starts a stopped job of nobody's with nobody's very spec (say, a file the user handed
 * over). The spec used to be resolved for root and stored, so the job ran as root while nobody,
 * still its owner, could restart it at will: root code execution on demand. The job must run as
 * its owner resolved it, whoever starts it.
 */
class ForeignSpecTest {
    @TempDir
    Path tmp;

    @Test
    void rootStartingAUsersJobWithItsSpecRunsItAsThatUser() throws Exception {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "CI runs as root: the owner is nobody");
        String spec = "{\"name\":\"esc\",\"command\":[\"/bin/sleep\",\"" + (400_000 + ProcessHandle.current().pid() % 997)
                + "\"]}";
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp); Client root = daemon.client()) {
            List<JsonNode> replies = NobodyClient.send(tmp, daemon.socket(), List.of(
                    "{\"id\":1,\"op\":\"start\",\"spec\":" + spec + "}",
                    "{\"id\":2,\"op\":\"stop\",\"name\":\"esc\"}"));
            assertEquals("running", replies.get(0).path("result").path("state").asText(), replies.get(0).toString());
            assertEquals(65534, replies.get(0).path("result").path("owner").asInt());

            JsonNode started = root.ok("start", "\"spec\":" + spec);
            assertEquals("running", started.get("state").asText());
            assertEquals("65534", uidOf(started.get("pid").asInt()), "root's start ran nobody's job as someone else");

            List<JsonNode> restarted = NobodyClient.send(tmp, daemon.socket(), List.of(
                    "{\"id\":3,\"op\":\"restart\",\"name\":\"esc\"}"));
            JsonNode job = restarted.get(0).path("result");
            assertEquals("running", job.path("state").asText(), restarted.get(0).toString());
            assertEquals("65534", uidOf(job.path("pid").asInt()), "nobody's restart ran its job as someone else");
            root.ok("stop", "\"name\":\"esc\"");
        }
    }

    /** The real uid of a process, from /proc. */
    private static String uidOf(int pid) {
        return new Proc(pid).status("Uid").split("\\s+")[0];
    }
}
