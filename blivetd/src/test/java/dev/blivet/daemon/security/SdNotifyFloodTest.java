package dev.blivet.daemon.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.NobodyClient;
import dev.blivet.daemon.testing.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job of nobody's floods its sd-notify socket with datagrams, from several processes, before
 * and after it declares itself ready. blivetd read every waiting datagram into a list until the
 * socket was empty, which a flood never lets happen: the heap filled and blivetd died, and while
 * it read, the one launch thread every start shares was stuck. Now each wake-up reads a bounded
 * number, keeps only READY and the last STATUS=, and announces a status change at most once
 * until the supervisor has read it.
 */
class SdNotifyFloodTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** How long the flood runs before the test looks at blivetd: enough to kill the old code. */
    private static final int FLOOD_SECONDS = 8;

    @TempDir
    Path tmp;

    /** Sends READY=1 first if asked, then eight processes flood the socket until killed. */
    private static final String FLOOD = String.join("\n",
            "import os, socket, sys",
            "path = os.environ['NOTIFY_SOCKET']",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
            "if sys.argv[1] == 'ready':",
            "    s.sendto(b'READY=1\\nSTATUS=flood', path)",
            "for _ in range(7):",
            "    if os.fork() == 0:",
            "        break",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
            "payload = b'a\\n' * 2048", // as many lines as fit: the old reader kept every one
            "while True:",
            "    try:",
            "        s.sendto(payload, path)",
            "    except OSError:",
            "        pass",
            "");

    @Test
    void aFloodOfDatagramsCostsNeitherTheHeapNorAnotherUsersStart() throws Exception {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "CI runs as root: the job runs as nobody");
        Path script = tmp.resolve("flood.py");
        Files.writeString(script, FLOOD);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp); Client root = daemon.client()) {
            List<JsonNode> replies = NobodyClient.send(tmp, daemon.socket(), List.of(
                    start(1, "flood-ready", script, "ready", true),
                    start(2, "flood-starting", script, "never", false)));
            assertEquals("running", replies.get(0).path("result").path("state").asText(), replies.get(0).toString());
            assertEquals("starting", replies.get(1).path("result").path("state").asText(), replies.get(1).toString());

            long floodEnds = System.nanoTime() + Duration.ofSeconds(FLOOD_SECONDS).toNanos();
            int starts = 0;
            while (System.nanoTime() - floodEnds < 0) {
                long before = System.nanoTime();
                JsonNode started = root.ok("start", "\"spec\":{\"name\":\"root" + starts + "\",\"command\":[\"/bin/true\"]}");
                double seconds = (System.nanoTime() - before) / 1e9;
                assertTrue(seconds < 5, "root's start took " + seconds + " s during the flood");
                assertTrue(started.has("state"), started.toString());
                starts++;
            }
            assertTrue(daemon.process().isAlive(), "blivetd died during the flood:\n" + daemon.log());
            JsonNode status = root.ok("status", "\"name\":\"flood-ready\"");
            assertEquals("running", status.get("state").asText());
            Await.until(WAIT, () -> "flood".equals(root.ok("status", "\"name\":\"flood-ready\"").path("status").asText()),
                    "the flooding job's STATUS= to be shown");

            root.ok("stop", "\"all\":true");
            Await.until(WAIT, () -> Proc.findByCmdline(List.of("/usr/bin/python3", script.toString(), "ready")).isEmpty()
                    && Proc.findByCmdline(List.of("/usr/bin/python3", script.toString(), "never")).isEmpty(),
                    "every flooding process to be gone");
            assertEquals(1, root.ok("ping", null).get("protocol").asInt());
            assertTrue(!daemon.log().contains("OutOfMemoryError"), daemon.log());
        }
    }

    private static String start(int id, String name, Path script, String mode, boolean wait) {
        return "{\"id\":" + id + ",\"op\":\"start\",\"wait\":" + wait + ",\"spec\":{\"name\":\"" + name
                + "\",\"readiness\":\"sd-notify\",\"ready_timeout\":86400,\"command\":[\"/usr/bin/python3\",\"" + script
                + "\",\"" + mode + "\"]}}";
    }
}
