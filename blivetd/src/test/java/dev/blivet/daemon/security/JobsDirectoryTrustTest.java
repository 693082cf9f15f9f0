package dev.blivet.daemon.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, attack 6: a job file nobody may write runs as root, so files others own or may write
 * are refused and reload names them; a jobs directory others may write refuses every file, and
 * that mistake must not stop the jobs the directory already gave.
 */
class JobsDirectoryTrustTest {
    @TempDir
    Path tmp;

    @Test
    void reloadNamesRefusedFilesAndAnUntrustedDirectoryStopsNothing() throws Exception {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "CI runs as root: the test gives files to nobody");
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp); Client client = daemon.client()) {
            Path jobs = daemon.jobsDir();
            Files.setPosixFilePermissions(jobs, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path good = jobs.resolve("good.json");
            Files.writeString(good, "{\"name\":\"good\",\"autostart\":true,\"command\":[\"/bin/sleep\",\"100000\"]}");
            Files.setPosixFilePermissions(good, PosixFilePermissions.fromString("rw-r--r--"));
            Path planted = jobs.resolve("planted.json");
            Files.writeString(planted, "{\"name\":\"planted\",\"autostart\":true,\"user\":\"root\",\"command\":[\"/bin/true\"]}");
            Files.setAttribute(planted, "unix:uid", AsNobody.UID);

            JsonNode first = client.ok("reload", null);
            assertEquals("[\"good\"]", first.get("added").toString(), first.toString());
            assertTrue(first.get("errors").get(planted.toString()).asText().contains("belongs to uid 65534"), first.toString());
            int pid = client.ok("wait", "\"name\":\"good\",\"state\":\"running\",\"timeout\":20").get("pid").asInt();
            assertEquals("not_found", client.call("status", "\"name\":\"planted\"").get("error").get("code").asText());

            // A chmod mistake on the directory: every file refused, nothing removed or stopped.
            Files.setPosixFilePermissions(jobs, PosixFilePermissions.fromString("rwxrwxrwx"));
            JsonNode refused = client.ok("reload", null);
            assertEquals("[]", refused.get("removed").toString(), refused.toString());
            assertTrue(refused.get("errors").get(jobs.toString()).asText().contains("mode 0777"), refused.toString());
            assertTrue(refused.get("errors").get(good.toString()).asText().contains("not read"), refused.toString());
            JsonNode status = client.ok("status", "\"name\":\"good\"");
            assertEquals("running", status.get("state").asText(), status.toString());
            assertEquals(pid, status.get("pid").asInt(), "the same process, never stopped");

            // Fixed: the directory is read again, and a file that is gone now goes.
            Files.setPosixFilePermissions(jobs, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.delete(good);
            JsonNode fixed = client.ok("reload", null);
            assertEquals("[\"good\"]", fixed.get("removed").toString(), fixed.toString());
        }
    }
}
