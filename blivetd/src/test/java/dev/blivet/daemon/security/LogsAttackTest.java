package dev.blivet.daemon.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** logs reads a job's file, which the job controls: bounded memory, and no symlink followed. */
class LogsAttackTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** LogTail's limit and mark, as a client sees them. */
    private static final int MAX_LINE = 16 * 1024;
    private static final String CUT_MARK = " [cut: line longer than 16384 bytes]";

    @TempDir
    Path tmp;
    BlivetdProcess daemon;
    Client client;

    @BeforeEach
    void startDaemon() throws Exception {
        daemon = BlivetdProcess.start(tmp);
        client = daemon.client();
    }

    @AfterEach
    void stopDaemon() throws Exception {
        client.close();
        daemon.close();
    }

    /** Issue 8, attack 4b: one 2 GB line without a newline under logs follow ended blivetd (OutOfMemoryError). */
    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS) // a guard against a hang, not a measure
    void aTwoGigabyteLineIsCutAndFollowingGoesOn() throws Exception {
        Path out = tmp.resolve("big.out");
        Path go = tmp.resolve("go");
        assertEquals(0, new NativeOs().posix().mkfifo(go.toString(), 0600));
        client.ok("start", "\"spec\":{\"name\":\"big\",\"stdout\":\"" + out + "\",\"append\":true,\"command\":[\"/bin/sh\",\"-c\","
                + "\"printf x; read go < " + go + "; truncate -s 2147483648 " + out + "; echo; echo normal; exec sleep 100000\"]}");
        int baselineFds = new Proc(daemon.pid()).fds().size();
        int baselineThreads = Integer.parseInt(new Proc(daemon.pid()).status("Threads"));

        try (Client follower = daemon.client()) {
            JsonNode first = follower.ok("logs", "\"name\":\"big\",\"lines\":10,\"follow\":true");
            assertEquals(0, first.get("lines").size(), "no complete line yet: " + first);
            Files.writeString(go, "go\n"); // the job grows its line to 2 GB (sparse), then ends it
            JsonNode cut = follower.read();
            assertNotNull(cut, "blivetd hung up instead of sending the cut line; alive: " + daemon.process().isAlive());
            assertEquals("log", cut.get("event").asText(), cut.toString());
            String line = cut.get("line").asText();
            assertTrue(line.startsWith("x\0") && line.endsWith(CUT_MARK), line.substring(0, 20));
            assertEquals(MAX_LINE + CUT_MARK.length(), line.length(), "16 KiB of the line, then the mark");
            JsonNode next = follower.read();
            assertEquals("normal", next.get("line").asText(), "the line after the long one arrives whole");
            assertEquals(2147483648L + 8, Files.size(out), "the job wrote what the test says it did");
            assertTrue(client.ok("ping", null).has("version"), "blivetd answers others meanwhile");
        }
        assertTrue(daemon.process().isAlive(), daemon.log());
        assertTrue(client.ok("ping", null).has("version"));
        Await.until(WAIT, () -> new Proc(daemon.pid()).fds().size() <= baselineFds + 2,
                "blivetd's fds back to about " + baselineFds + " (now " + new Proc(daemon.pid()).fds().size() + ")");
        // Client threads are retired a few seconds after their connection ends.
        Await.until(WAIT, () -> Integer.parseInt(new Proc(daemon.pid()).status("Threads")) <= baselineThreads + 2,
                "blivetd's threads back to about " + baselineThreads);
        client.ok("stop", "\"name\":\"big\"");
    }

    @Test
    void aLastLinesWindowFullOfOneLineGivesNoLineAndFollowingSkipsItsRest() throws Exception {
        Path out = tmp.resolve("wide.out");
        Path go = tmp.resolve("go");
        assertEquals(0, new NativeOs().posix().mkfifo(go.toString(), 0600));
        client.ok("start", "\"spec\":{\"name\":\"wide\",\"stdout\":\"" + out + "\",\"append\":true,\"command\":[\"/bin/sh\",\"-c\","
                + "\"echo before; printf x; truncate -s 1048576 " + out + "; read go < " + go
                + "; echo rest; echo after; exec sleep 100000\"]}");
        Await.until(WAIT, () -> sizeOf(out) == 1048576, "the job's 1 MiB line");
        try (Client follower = daemon.client()) {
            JsonNode first = follower.ok("logs", "\"name\":\"wide\",\"lines\":10,\"follow\":true");
            assertEquals(0, first.get("lines").size(), "the window's only line is cut by its start: " + first);
            Files.writeString(go, "go\n");
            assertEquals("after", follower.read().get("line").asText(), "the rest of the wide line is skipped");
        }
        // The window (64 KiB) now starts inside the wide line: that part is not a line, "after" is.
        assertEquals("[\"after\"]", client.ok("logs", "\"name\":\"wide\",\"lines\":10").get("lines").toString());
        client.ok("stop", "\"name\":\"wide\"");
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    @Test
    void aSymlinkedDirectoryInTheOutputPathIsRefusedByName() throws Exception {
        Path real = Files.createDirectories(tmp.resolve("real"));
        Path out = real.resolve("out.log");
        client.ok("start", "\"spec\":{\"name\":\"linked\",\"stdout\":\"" + out + "\",\"command\":[\"/bin/sh\",\"-c\","
                + "\"echo mine; exec sleep 100000\"]}");
        Await.until(WAIT, () -> sizeOf(out) > 0, "the job's first line");
        assertEquals("[\"mine\"]", client.ok("logs", "\"name\":\"linked\"").get("lines").toString());
        // The directory moved away and a symlink put in its place: the path now goes through it.
        Files.move(real, tmp.resolve("elsewhere"));
        Files.createSymbolicLink(real, tmp.resolve("elsewhere"));
        JsonNode refused = client.call("logs", "\"name\":\"linked\"");
        assertEquals("permission_denied", refused.get("error").get("code").asText(), refused.toString());
        String message = refused.get("error").get("message").asText();
        assertTrue(message.contains(out.toString()) && message.contains("symlink"), message);
        client.ok("stop", "\"name\":\"linked\"");
    }
}
