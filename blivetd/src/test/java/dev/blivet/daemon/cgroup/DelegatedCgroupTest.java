package dev.blivet.daemon.cgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.Proc;
import dev.blivet.daemon.testing.ReadableClassPath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A non-root blivetd in a cgroup delegated to its user, as a systemd user manager's Delegate=yes
 * hands it over (the directory and its cgroup.procs, cgroup.subtree_control and cgroup.threads
 * chowned to the user): blivetd moves into the leaf "supervisor" and contains its jobs beside it.
 */
class DelegatedCgroupTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int NOBODY = 65534;

    @TempDir
    Path tmp;
    Path delegated;

    @AfterEach
    void removeDelegatedCgroup() throws IOException {
        if (delegated != null && Files.isDirectory(delegated)) {
            try (var children = Files.list(delegated)) {
                for (Path child : children.filter(Files::isDirectory).toList()) {
                    Files.delete(child); // empty once blivetd is gone: rmdir is how a cgroup goes
                }
            }
            Files.delete(delegated);
        }
    }

    @Test
    void aNonRootBlivetdContainsItsJobsInItsDelegatedCgroup() throws Exception {
        assertTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "the test makes the delegation as root");
        delegated = ContainmentTest.cgroup2Mount().resolve("blivet-test-delegated-" + ProcessHandle.current().pid());
        Files.createDirectory(delegated);
        for (Path owned : List.of(delegated, delegated.resolve("cgroup.procs"), delegated.resolve("cgroup.subtree_control"),
                delegated.resolve("cgroup.threads"))) {
            Files.setAttribute(owned, "unix:uid", NOBODY);
        }
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String dir : List.of("run", "jobs", "state")) {
            Path made = Files.createDirectories(tmp.resolve(dir));
            Files.setPosixFilePermissions(made, PosixFilePermissions.fromString(dir.equals("run") ? "rwx------" : "rwxr-xr-x"));
            Files.setAttribute(made, "unix:uid", NOBODY);
        }
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.setAttribute(out, "unix:uid", NOBODY);
        String classPath = ReadableClassPath.copyInto(tmp.resolve("cp"));
        // As the service manager does: the process is put in its cgroup, then runs as its user.
        List<String> prefix = List.of("/bin/sh", "-c", "echo $$ > " + delegated.resolve("cgroup.procs") + " && exec \"$@\"",
                "sh", "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups");
        try (BlivetdProcess daemon = BlivetdProcess.start(tmp, prefix, classPath); Client client = daemon.client()) {
            Await.until(WAIT, () -> daemon.log().contains("containment: cgroup v2, delegated"), "delegated mode:\n"
                    + daemon.log());
            String base = "0::/" + ContainmentTest.cgroup2Mount().relativize(delegated);
            assertEquals(base + "/supervisor", ContainmentTest.cgroupOf(daemon.pid()));
            client.ok("start", "\"spec\":{\"name\":\"tree\",\"command\":" + ContainmentTest.sh(
                    "setsid sh -c 'echo $$ > " + out.resolve("setsid") + "; exec sleep 100010' & exec sleep 100000") + "}");
            Path setsidFile = out.resolve("setsid");
            Await.until(WAIT, () -> {
                try {
                    return Files.readString(setsidFile).endsWith("\n");
                } catch (IOException e) {
                    return false;
                }
            }, "the setsid child's pid");
            int setsid = Integer.parseInt(Files.readString(setsidFile).strip());
            assertEquals(base + "/job-tree", ContainmentTest.cgroupOf(setsid));
            JsonNode stopped = client.ok("stop", "\"name\":\"tree\"");
            assertEquals("stopped", stopped.get("state").asText());
            assertFalse(ContainmentTest.alive(setsid), "the setsid child went with the job");
            client.ok("remove", "\"name\":\"tree\"");
            assertFalse(Files.exists(delegated.resolve("job-tree")));
            // A blivetd of one user answers to that user for itself too, not only to root.
            JsonNode reload = dev.blivet.daemon.testing.NobodyClient.send(tmp, daemon.socket(),
                    "{\"id\":1,\"op\":\"reload\"}").get(0);
            assertTrue(reload.path("ok").asBoolean(false), "its own user reloads it: " + reload);
        }
    }
}
