package dev.blivet.daemon.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.NobodyClient;
import dev.blivet.daemon.testing.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nobody names output files inside a directory only root may search, then asks for their logs.
 * blivetd opens log files as root, and used to answer each case differently (nothing yet, "belongs
 * to uid 0", "is not a regular file", "not a directory", or the lines of nobody's own file there):
 * a map of a directory nobody cannot look at. Every case must answer alike.
 */
class LogsNeedToKnowTest {
    @TempDir
    Path tmp;

    @Test
    void everyPathInsideARootOnlyDirectoryLooksAlikeToAnotherUser() throws Exception {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "CI runs as root: the client is nobody");
        Path secret = Files.createDirectories(tmp.resolve("secret"));
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rwx------"));
        Files.writeString(secret.resolve("rootfile.log"), "root's\n");
        Files.createDirectories(secret.resolve("dir.log"));
        Files.writeString(secret.resolve("file"), "x\n");
        Path nobodys = secret.resolve("nobodys.log");
        Files.writeString(nobodys, "nobody's own, out of its reach\n");
        Files.setAttribute(nobodys, "unix:uid", 65534);
        List<String> outputs = List.of("missing.log", "rootfile.log", "dir.log", "file/out.log", "nobodys.log");

        try (BlivetdProcess daemon = BlivetdProcess.start(tmp)) {
            List<String> requests = new ArrayList<>();
            for (int i = 0; i < outputs.size(); i++) {
                requests.add("{\"id\":" + i + ",\"op\":\"start\",\"spec\":{\"name\":\"probe" + i + "\",\"stdout\":\""
                        + secret.resolve(outputs.get(i)) + "\",\"command\":[\"/bin/true\"]}}");
            }
            for (int i = 0; i < outputs.size(); i++) {
                requests.add("{\"id\":0,\"op\":\"logs\",\"name\":\"probe" + i + "\"}");
            }
            List<JsonNode> replies = NobodyClient.send(tmp, daemon.socket(), requests);
            String first = null;
            for (int i = 0; i < outputs.size(); i++) {
                JsonNode reply = replies.get(outputs.size() + i);
                String seen = reply.toString().replace(secret.resolve(outputs.get(i)).toString(), "PATH");
                assertFalse(seen.contains("nobody's own"), seen);
                if (first == null) {
                    first = seen;
                }
                assertEquals(first, seen, "logs of a job whose stdout is " + outputs.get(i) + " in a root-only directory");
            }
        }
    }
}
