package dev.blivet.daemon.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.Proc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, attack 4c: a start at the task limit. blivetd runs as nobody (RLIMIT_NPROC binds
 * only non-root users) and the soft RLIMIT_NPROC of its running process is then lowered to 1,
 * below the threads it already has: every fork and thread creation of blivetd fails from then
 * on, deterministically. The start must fail with 71 and blivetd live on; once the limit is
 * lifted the same start succeeds. prlimit runs as nobody too: root without CAP_SYS_RESOURCE (a
 * container) may not change another user's limits, a process of the same user may lower its
 * soft limit and raise it again up to the hard one.
 */
class TaskLimitTest {
    private static final int NOBODY = 65534;

    @TempDir
    Path tmp;

    @Test
    void aStartAtTheTaskLimitFailsWith71AndBlivetdLivesOn() throws Exception {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "CI runs as root: blivetd is dropped to nobody");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String dir : List.of("run", "jobs", "state")) {
            Path made = Files.createDirectories(tmp.resolve(dir));
            Files.setPosixFilePermissions(made, PosixFilePermissions.fromString(dir.equals("run") ? "rwx------" : "rwxr-xr-x"));
            Files.setAttribute(made, "unix:uid", NOBODY);
        }
        String classPath = dev.blivet.daemon.testing.ReadableClassPath.copyInto(tmp.resolve("cp"));
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp, List.of("setpriv", "--reuid=nobody", "--regid=nogroup",
                "--clear-groups"), classPath);
                Client client = daemon.client()) {
            assertTrue(new Proc(daemon.pid()).status("Uid").startsWith(NOBODY + "\t"), "blivetd runs as nobody");
            String spec = "\"spec\":{\"name\":\"limited\",\"command\":[\"/bin/sleep\",\"300007\"]}";
            client.ok("start", spec);
            client.ok("stop", "\"name\":\"limited\"");

            String[] limit = new Proc(daemon.pid()).limit("Max processes").split(" ");
            String softBefore = limit[2];
            prlimit(daemon.pid(), "1:");
            try {
                assertEquals("1", new Proc(daemon.pid()).limit("Max processes").split(" ")[2]);
                JsonNode refused = client.call("start", spec);
                assertEquals("start_failed", refused.path("error").path("code").asText(), refused.toString());
                assertEquals(71, refused.path("error").path("exit_code").asInt(), refused.toString());
                String message = refused.path("error").path("message").asText();
                assertTrue(message.startsWith("os error: posix_spawn") && message.contains("Resource temporarily unavailable"),
                        message);
                System.out.println("task limit: start refused with: " + message);
                assertEquals(1, client.ok("ping", null).get("protocol").asInt(), "blivetd still answers");
                assertEquals("failed", client.ok("status", "\"name\":\"limited\"").get("state").asText());
                assertTrue(daemon.process().isAlive());
            } finally {
                // Even SIGTERM needs a new thread in the JVM (its signal handlers run on one): lift first.
                prlimit(daemon.pid(), softBefore + ":");
            }
            JsonNode started = client.ok("start", spec);
            assertEquals("running", started.get("state").asText(), "a start succeeds once the limit is lifted");
            client.ok("stop", "\"name\":\"limited\"");
        }
    }

    private static void prlimit(int pid, String nproc) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "prlimit", "--pid", Integer.toString(pid), "--nproc=" + nproc)
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), "prlimit: " + output);
    }
}
