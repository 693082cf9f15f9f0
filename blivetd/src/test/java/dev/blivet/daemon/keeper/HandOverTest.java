package dev.blivet.daemon.keeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What blivetd makes of fds the environment names when no keeper or systemd vouches for them. */
class HandOverTest {
    @Test
    void variablesThatNameNoFdOfOursAreIgnored(@TempDir Path dir) throws Exception {
        // A link on stdin, and a socket handed to another pid: neither is believed; blivetd binds
        // its own socket and runs as without a keeper.
        try (BlivetdProcess daemon = BlivetdProcess.start(dir, List.of("env", "BLIVET_KEEPER_FD=0", "LISTEN_FDS=1",
                "LISTEN_PID=1"), System.getProperty("java.class.path")); Client client = daemon.client()) {
            JsonNode reply = client.call("reexec");
            assertEquals("conflict", reply.path("error").path("code").asText(), reply.toString());
            String log = daemon.log();
            assertTrue(log.contains("BLIVET_KEEPER_FD=0 ignored: not an fd number above 2"), log);
            assertTrue(log.contains("LISTEN_FDS ignored: LISTEN_PID is 1"), log);
        }
    }

    @Test
    void aHandedOverFdThatIsNotAListeningSocketIsRefused(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("log");
        // sh exec's java, so $$ is the JVM's pid: fd 3 (/dev/null) is handed to blivetd itself.
        Process process = new ProcessBuilder("sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\" 3</dev/null",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "dev.blivet.daemon.Main", "--socket",
                dir.resolve("run/s.sock").toString(), "--jobs-dir", dir.toString(), "--state-dir",
                dir.resolve("state").toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(process.waitFor(90, TimeUnit.SECONDS));
        String output = Files.readString(log);
        assertEquals(69, process.exitValue(), output);
        assertTrue(output.contains("fd 3 from LISTEN_FDS is not a listening Unix stream socket"), output);
    }
}
