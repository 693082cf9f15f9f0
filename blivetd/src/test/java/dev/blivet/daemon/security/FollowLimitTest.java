package dev.blivet.daemon.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.common.protocol.Protocol;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.NobodyClient;
import dev.blivet.daemon.testing.Proc;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every log follower holds an inotify instance, taken from root's own per-user limit (128 by
 * default, shared with systemd and every root process): four users following without bound
 * exhausted it for the whole machine. A user may follow a few logs at once; root is not limited.
 */
class FollowLimitTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Follows the job's log on N connections, prints each first reply, holds them until stdin closes. */
    private static final String FOLLOWER = String.join("\n",
            "import socket, sys",
            "held = []",
            "for _ in range(int(sys.argv[3])):",
            "    s = socket.socket(socket.AF_UNIX)",
            "    s.connect(sys.argv[1])",
            "    f = s.makefile('rw')",
            "    f.write('{\"op\":\"logs\",\"name\":\"' + sys.argv[2] + '\",\"follow\":true}\\n'); f.flush()",
            "    print(f.readline().strip(), flush=True)",
            "    held.append((s, f))",
            "sys.stdin.read()",
            "");

    @TempDir
    Path tmp;

    @Test
    void aUserFollowsAFewLogsAtOnceAndRootIsNotLimited() throws Exception {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "CI runs as root: the follower is nobody");
        Path logs = Files.createDirectories(tmp.resolve("logs"));
        Files.setAttribute(logs, "unix:uid", 65534);
        Path script = tmp.resolve("follower.py");
        Files.writeString(script, FOLLOWER);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp); Client root = daemon.client()) {
            List<JsonNode> started = NobodyClient.send(tmp, daemon.socket(), "{\"op\":\"start\",\"spec\":{\"name\":\"chatty\","
                    + "\"stdout\":\"" + logs.resolve("out.log") + "\",\"command\":[\"/bin/sh\",\"-c\",\"echo hi; exec sleep 100000\"]}}");
            assertEquals("running", started.get(0).path("result").path("state").asText(), started.get(0).toString());

            int allowed = Protocol.MAX_FOLLOWS_PER_USER;
            Process follower = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                    "/usr/bin/python3", script.toString(), daemon.socket().toString(), "chatty", Integer.toString(allowed + 1))
                    .redirectErrorStream(true).start();
            try {
                BufferedReader replies = new BufferedReader(new InputStreamReader(follower.getInputStream(), StandardCharsets.UTF_8));
                for (int i = 0; i < allowed; i++) {
                    JsonNode reply = JSON.readTree(replies.readLine());
                    assertTrue(reply.path("ok").asBoolean(), "follower " + i + ": " + reply);
                }
                JsonNode refused = JSON.readTree(replies.readLine());
                assertEquals("limit_exceeded", refused.path("error").path("code").asText(), refused.toString());

                // root follows the same log all the same
                JsonNode rootFollow = root.ok("logs", "\"name\":\"chatty\"");
                assertEquals("[\"hi\"]", rootFollow.get("lines").toString());
            } finally {
                follower.getOutputStream().close();
                follower.destroy();
                Await.until(WAIT, () -> !follower.isAlive(), "the follower to exit");
            }
            // Its places come back once blivetd has seen its connections go.
            Await.until(WAIT, () -> nobodyCanFollow(daemon), "nobody to follow again once its followers are gone");
            root.ok("stop", "\"all\":true");
        }
    }

    private boolean nobodyCanFollow(BlivetdProcess daemon) {
        try {
            return NobodyClient.send(tmp, daemon.socket(), "{\"op\":\"logs\",\"name\":\"chatty\",\"follow\":true}")
                    .get(0).path("ok").asBoolean();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
