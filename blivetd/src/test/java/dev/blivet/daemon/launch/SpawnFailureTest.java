package dev.blivet.daemon.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed posix_spawn names the path it failed on. A real blivetd runs in its own mount
 * namespace where /dev/null is the null device on a file system mounted nodev, so that opening
 * it fails with EACCES, as on a host whose /dev lost its device nodes' powers.
 */
class SpawnFailureTest {
    @TempDir
    Path tmp;

    @Test
    void anUnopenableDevNullIsNamedAndTheHelperIsNotBlamed() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounts in a mount namespace: needs root");
        Path nodev = Files.createDirectories(tmp.resolve("nodev"));
        List<String> prefix = List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs -o nodev tmpfs \"$0\" && mknod \"$0/null\" c 1 3 && chmod 666 \"$0/null\""
                        + " && mount --bind \"$0/null\" /dev/null && exec \"$@\"", nodev.toString());
        try (BlivetdProcess daemon = BlivetdProcess.start(Files.createDirectories(tmp.resolve("d")), prefix,
                System.getProperty("java.class.path")); Client client = daemon.client()) {
            JsonNode reply = client.call("start", "\"spec\":{\"name\":\"quiet\",\"command\":[\"/bin/true\"]}");
            assertFalse(reply.path("ok").asBoolean(), reply::toString);
            String message = reply.path("error").path("message").asText();
            assertEquals("start_failed", reply.path("error").path("code").asText(), reply::toString);
            assertTrue(message.contains("cannot open /dev/null") && message.contains("Permission denied"), message);
            assertFalse(message.contains("posix_spawn"), message);
        }
    }
}
