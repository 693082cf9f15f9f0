package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.ReservedName;
import dev.blivet.daemon.cgroup.CgroupNames;
import dev.blivet.daemon.ledger.CrashPoints;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.InstanceCgroup;
import dev.blivet.daemon.testing.Proc;
import dev.blivet.daemon.testing.ReadableClassPath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start rehearsal at boot (StartRehearsal), on real blivetd processes: it ran, it left
 * nothing (no scratch directory, no cgroup, no process, no job, nothing in the real ledger,
 * nothing in the log above debug), its name is refused to everyone else, and what a crash in the
 * middle of it left is cleared by the next boot.
 */
class StartRehearsalTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String RAN = "DEBUG start rehearsal at boot: " + StartRehearsal.STARTS + " starts in ";
    private static final String NOBODY = "65534";

    @TempDir
    Path tmp;

    @Test
    void itRunsAndLeavesNothingBehindAndTheRealLedgerAsItWas() throws Exception {
        try (BlivetdProcess first = BlivetdProcess.start(tmp); Client client = first.client()) {
            client.ok("start", "\"spec\":{\"name\":\"kept\",\"command\":[\"/bin/sleep\",\"300011\"]}");
            client.ok("stop", "\"name\":\"kept\"");
        }
        Map<Path, String> ledger = contents(tmp.resolve("state"));
        assertTrue(ledger.keySet().stream().anyMatch(path -> path.toString().endsWith("kept.json")), "" + ledger);
        try (BlivetdProcess blivetd = BlivetdProcess.start(tmp); Client client = blivetd.client()) {
            assertRanAndLeftNothing(blivetd, client, true);
            assertEquals(ledger, contents(tmp.resolve("state")), "the real ledger's records, byte for byte and mtime for mtime");
            assertEquals(List.of("kept"), names(client.ok("list", null)), "only the real job is listed");
        }
    }

    @Test
    void itRunsWithoutCgroups() throws Exception {
        try (BlivetdProcess blivetd = BlivetdProcess.start(tmp, "--cgroups=off"); Client client = blivetd.client()) {
            assertRanAndLeftNothing(blivetd, client, false);
        }
    }

    @Test
    void itRunsForABlivetdOfAnOrdinaryUser() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String dir : List.of("run", "jobs", "state")) {
            Path made = Files.createDirectories(tmp.resolve(dir));
            Files.setPosixFilePermissions(made, PosixFilePermissions.fromString(dir.equals("run") ? "rwx------" : "rwxr-xr-x"));
            Files.setAttribute(made, "unix:uid", Integer.parseInt(NOBODY));
        }
        String classPath = ReadableClassPath.copyInto(tmp.resolve("cp"));
        try (BlivetdProcess blivetd = BlivetdProcess.start(tmp, List.of("setpriv", "--reuid=nobody", "--regid=nogroup",
                "--clear-groups"), classPath); Client client = blivetd.client()) {
            assertTrue(new Proc(blivetd.pid()).status("Uid").startsWith(NOBODY + "\t"), "blivetd runs as nobody");
            assertRanAndLeftNothing(blivetd, client, false);
        }
    }

    /** The name is blivetd's: refused in a spec (start, validate), in a start by name and in a jobs-directory file. */
    @Test
    void itsNameIsRefusedToClientsAndToTheJobsDirectory() throws Exception {
        Path jobs = Files.createDirectories(tmp.resolve("jobs"));
        Path file = jobs.resolve("mine.json");
        Files.writeString(file, "{\"name\":\"" + ReservedName.REHEARSAL + "\",\"command\":[\"/bin/sleep\",\"300012\"]}");
        String refusal = ReservedName.refusal(ReservedName.REHEARSAL);
        try (BlivetdProcess blivetd = BlivetdProcess.start(tmp); Client client = blivetd.client()) {
            assertTrue(blivetd.log().lines().anyMatch(line -> line.contains(" WARN skipped " + file + ": ")
                    && line.endsWith(refusal)), blivetd.log());
            String spec = "\"spec\":{\"name\":\"" + ReservedName.REHEARSAL + "\",\"command\":[\"/bin/sleep\",\"300012\"]}";
            JsonNode inline = client.call("start", spec);
            assertEquals("invalid_spec", inline.path("error").path("code").asText(), inline.toString());
            assertTrue(inline.path("error").path("message").asText().contains(refusal), inline.toString());
            JsonNode byName = client.call("start", "\"name\":\"" + ReservedName.REHEARSAL + "\"");
            assertEquals("bad_request", byName.path("error").path("code").asText(), byName.toString());
            assertEquals(refusal, byName.path("error").path("message").asText());
            JsonNode validated = client.ok("validate", spec);
            assertTrue(validated.toString().contains(refusal), validated.toString());
            assertEquals(List.of(), names(client.ok("list", null)), "no job of that name");
        }
    }

    /**
     * A blivetd halted in the middle of its rehearsal (its job started, its records written)
     * leaves the scratch directory and perhaps the job's cgroup; the next boot kills whatever is
     * in that cgroup, removes it and the scratch directory (never following a link in it), then
     * rehearses and serves.
     */
    @Test
    void whatACrashInTheRehearsalLeftIsClearedByTheNextBoot() throws Exception {
        Path jobs = Files.createDirectories(tmp.resolve("jobs"));
        Files.writeString(jobs.resolve("known.json"), "{\"name\":\"known\",\"command\":[\"/bin/sleep\",\"300013\"],"
                + "\"autostart\":false}");
        AssertionError halted = assertThrows(AssertionError.class,
                () -> BlivetdProcess.start(tmp, Map.of(CrashPoints.ENV, CrashPoints.IN_REHEARSAL)).close());
        assertTrue(halted.getMessage().contains("test crash point " + CrashPoints.IN_REHEARSAL + " reached"),
                halted.getMessage());
        Files.move(tmp.resolve("blivetd.log"), tmp.resolve("crashed.log")); // the next boot's log alone is checked
        Path socket = tmp.resolve("run/blivetd.sock");
        Path scratch = socket.resolveSibling(RehearsalScratch.NAME);
        assertTrue(Files.isDirectory(scratch.resolve("state/specs")), "the crash left the scratch ledger");
        Path outside = Files.writeString(tmp.resolve("outside.txt"), "not blivetd's to remove");
        Files.createSymbolicLink(scratch.resolve("link"), outside);
        // Whatever the crashed rehearsal's job did, a process is left in its cgroup.
        Path cgroup = Files.createDirectories(InstanceCgroup.of(socket).resolve(CgroupNames.job(ReservedName.REHEARSAL)));
        Process left = new ProcessBuilder("/bin/sleep", "300014").start();
        try {
            Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(left.pid()));
            try (BlivetdProcess blivetd = BlivetdProcess.start(tmp); Client client = blivetd.client()) {
                Await.until(WAIT, () -> !left.isAlive(), "the process left in the rehearsal's cgroup to be killed");
                assertRanAndLeftNothing(blivetd, client, true);
                assertEquals("not blivetd's to remove", Files.readString(outside), "the link was removed, not followed");
                assertEquals("running", client.ok("start", "\"name\":\"known\"").path("state").asText());
                assertEquals(List.of("known"), names(client.ok("list", null)));
                client.ok("stop", "\"name\":\"known\"");
            }
        } finally {
            left.destroyForcibly();
        }
    }

    /**
     * Processes in the rehearsal job's cgroup with no scratch directory beside the socket are no
     * rehearsal's: a job that had the name before it was reserved, kept running across an
     * upgrade. The boot leaves them alone (no kill, no removal), says so at warn, and rehearses
     * nothing.
     */
    @Test
    void aProcessInTheRehearsalsCgroupThatNoRehearsalLeftIsLeftAlone() throws Exception {
        Path socket = tmp.resolve("run/blivetd.sock");
        Path cgroup = Files.createDirectories(InstanceCgroup.of(socket).resolve(CgroupNames.job(ReservedName.REHEARSAL)));
        Process legacy = new ProcessBuilder("/bin/sleep", "300016").start();
        try {
            Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(legacy.pid()));
            try (BlivetdProcess blivetd = BlivetdProcess.start(tmp); Client client = blivetd.client()) {
                assertTrue(blivetd.log().contains("WARN start rehearsal at boot: skipped: processes run in the cgroup of job "
                        + ReservedName.REHEARSAL), blivetd.log());
                assertFalse(blivetd.log().contains(RAN), "no rehearsal ran");
                assertTrue(legacy.isAlive(), "the process was not killed");
                assertTrue(Files.readString(cgroup.resolve("cgroup.procs")).contains(Long.toString(legacy.pid())),
                        "nor moved out of its cgroup");
                assertFalse(Files.exists(socket.resolveSibling(RehearsalScratch.NAME)), "no scratch directory was made");
                String spec = "\"spec\":{\"name\":\"after\",\"command\":[\"/bin/sleep\",\"300017\"]}";
                assertEquals("running", client.ok("start", spec).path("state").asText());
                client.ok("stop", "\"name\":\"after\"");
            }
        } finally {
            legacy.destroyForcibly(); // blivetd's stop killed it already (LeftoverSweep), and removed its cgroup
            InstanceCgroup.killAllAndRemove(socket);
        }
    }

    /**
     * A rehearsal that cannot run never stops blivetd: here its scratch directory's path holds a
     * directory of another uid (only root could have made it), which blivetd neither removes nor
     * uses; it says so at warn and serves, and starts work as without the rehearsal.
     */
    @Test
    void aRehearsalThatCannotRunIsAWarningAndBlivetdServes() throws Exception {
        Path scratch = Files.createDirectories(tmp.resolve("run").resolve(RehearsalScratch.NAME));
        Files.setAttribute(scratch, "unix:uid", Integer.parseInt(NOBODY));
        try (BlivetdProcess blivetd = BlivetdProcess.start(tmp); Client client = blivetd.client()) {
            assertTrue(blivetd.log().contains("WARN start rehearsal at boot: cannot remove an earlier boot's scratch directory "
                    + scratch + ": refusing to remove " + scratch + ": it belongs to uid " + NOBODY
                    + ", not to blivetd's uid 0; no rehearsal"), blivetd.log());
            assertFalse(blivetd.log().contains(RAN), "no rehearsal ran");
            assertEquals(Integer.parseInt(NOBODY), Files.getAttribute(scratch, "unix:uid"), "left as it was");
            String spec = "\"spec\":{\"name\":\"after\",\"command\":[\"/bin/sleep\",\"300015\"]}";
            assertEquals("running", client.ok("start", spec).path("state").asText());
            client.ok("stop", "\"name\":\"after\"");
        }
    }

    /** It ran (its debug line); nothing of it is left or shown once blivetd serves. */
    private void assertRanAndLeftNothing(BlivetdProcess blivetd, Client client, boolean cgroups) throws IOException {
        String log = blivetd.log();
        assertTrue(log.contains(RAN), log);
        assertFalse(log.lines().anyMatch(line -> line.contains("rehearsal") && !line.contains(" DEBUG ")
                && !line.contains(" WARN skipped ") && !line.contains("processes left in its cgroup")),
                "the rehearsal said nothing above debug:\n" + log);
        Path socket = blivetd.socket();
        assertFalse(Files.exists(socket.resolveSibling(RehearsalScratch.NAME)), "the scratch directory is gone");
        if (cgroups) {
            assertFalse(Files.exists(InstanceCgroup.of(socket).resolve(CgroupNames.job(ReservedName.REHEARSAL))),
                    "the rehearsal job's cgroup is gone");
        }
        assertEquals(List.of(), ProcessHandle.of(blivetd.pid()).orElseThrow().children().toList(), "no process of the rehearsal");
        assertFalse(names(client.ok("list", null)).contains(ReservedName.REHEARSAL), "the rehearsal's job is not listed");
        for (Path dir : List.of(tmp.resolve("state"), socket.resolveSibling("ledger"))) {
            assertFalse(contents(dir).keySet().stream().anyMatch(path -> path.toString().contains(ReservedName.REHEARSAL)),
                    "nothing of the rehearsal in " + dir);
        }
    }

    private static List<String> names(JsonNode list) {
        List<String> names = new java.util.ArrayList<>();
        list.path("jobs").forEach(job -> names.add(job.path("name").asText()));
        return names;
    }

    /** Every file and directory under {@code root}, with its content and modification time. */
    private static Map<Path, String> contents(Path root) throws IOException {
        Map<Path, String> found = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path path : files.toList()) {
                found.put(path, Files.getLastModifiedTime(path) + (Files.isRegularFile(path) ? " " + Files.readString(path) : ""));
            }
        }
        return found;
    }
}
