package dev.blivet.daemon.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.launch.TrustedPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jobs directory read in parallel gives the same answer as one read file by file would, and
 * it trusts only what blivetd's own euid owns and nobody else can write (sshd's StrictModes).
 */
class JobsDirectoryTest {
    private static final TrustedPath PATHS = TrustedPath.of(new NativeOs());
    private static final String GOOD = "{\"name\":\"%s\",\"command\":[\"/bin/true\"]}";

    @TempDir
    Path dir;

    private JobsDirectory jobs(Path where) {
        return new JobsDirectory(where, new JobSpecResolver(new NativeAccounts(), Map.of()), PATHS);
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static Path write(Path file, String text, String mode) throws Exception {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    @Test
    void filesOthersOwnOrMayWriteAreRefusedByNameWithTheReason() throws Exception {
        assumeTrue(root(), "CI runs as root: the test gives files to nobody");
        write(dir.resolve("good.json"), GOOD.formatted("good"), "rw-r--r--");
        Files.setAttribute(write(dir.resolve("nobodys.json"), GOOD.formatted("nobodys"), "rw-r--r--"), "unix:uid", 65534);
        write(dir.resolve("world.json"), GOOD.formatted("world"), "rw-rw-rw-");
        write(dir.resolve("group.json"), GOOD.formatted("group"), "rw-rw-r--");
        Files.createSymbolicLink(dir.resolve("link.json"), dir.resolve("good.json"));
        assertEquals(0, new dev.blivet.daemon.launch.NativeOs().posix().mkfifo(dir.resolve("fifo.json").toString(), 0644));
        write(dir.resolve("huge.json"), " ".repeat(JobsDirectory.MAX_FILE_BYTES) + GOOD.formatted("huge"), "rw-r--r--");

        JobsDirectory.Scan scan = jobs(dir).scan();
        assertTrue(scan.complete());
        assertEquals("[good]", scan.jobs().keySet().toString(), scan.errors().toString());
        Map<String, String> errors = scan.errors();
        assertEquals(6, errors.size(), errors.toString());
        assertReason(errors, "nobodys.json", "belongs to uid 65534, not to uid 0");
        assertReason(errors, "world.json", "writable by group or others (mode 0666");
        assertReason(errors, "group.json", "writable by group or others (mode 0664");
        assertReason(errors, "link.json", "is a symlink");
        assertReason(errors, "fifo.json", "is not a regular file");
        assertReason(errors, "huge.json", "larger than " + JobsDirectory.MAX_FILE_BYTES + " bytes");
    }

    private void assertReason(Map<String, String> errors, String name, String why) {
        String file = dir.resolve(name).toString();
        String error = errors.get(file);
        assertTrue(error != null && error.contains(file) && error.contains(why), name + ": " + errors);
    }

    @Test
    void aDirectoryOthersMayWriteOrOwnRefusesEveryFileAndTheScanIsIncomplete() throws Exception {
        assumeTrue(root(), "CI runs as root: the test gives the directory to nobody");
        write(dir.resolve("good.json"), GOOD.formatted("good"), "rw-r--r--");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        JobsDirectory.Scan open = jobs(dir).scan();
        assertFalse(open.complete());
        assertEquals(0, open.jobs().size());
        assertTrue(open.errors().get(dir.toString()).contains("writable by group or others (mode 0777"), open.errors().toString());
        assertTrue(open.errors().get(dir.resolve("good.json").toString()).startsWith("not read: jobs directory " + dir),
                open.errors().toString());

        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setAttribute(dir, "unix:uid", 65534);
        JobsDirectory.Scan owned = jobs(dir).scan();
        assertFalse(owned.complete());
        assertTrue(owned.errors().get(dir.resolve("good.json").toString()).contains("belongs to uid 65534"),
                owned.errors().toString());
        Files.setAttribute(dir, "unix:uid", 0);

        Path link = Files.createSymbolicLink(dir.resolve("link"), dir);
        JobsDirectory.Scan linked = jobs(link).scan();
        assertFalse(linked.complete());
        assertTrue(linked.errors().get(link.toString()).contains("symlink"), linked.errors().toString());
        assertTrue(jobs(dir).scan().complete(), "the same directory, reached without the link");
    }

    @Test
    void everyGoodFileLoadsAndEveryBadOneIsNamedTheSameWayEachTime() throws Exception {
        JobsDirectory jobs = jobs(dir);
        // Files of blivetd's euid, 0644: trusted.
        for (int i = 0; i < 300; i++) {
            write(dir.resolve("job%03d.json".formatted(i)), GOOD.formatted("job%03d".formatted(i)), "rw-r--r--");
        }
        // Two files naming one job: the first by file name wins, whichever thread read it first.
        Files.writeString(dir.resolve("a-twin.json"), "{\"name\":\"twin\",\"command\":[\"/bin/true\"]}");
        Files.writeString(dir.resolve("z-twin.json"), "{\"name\":\"twin\",\"command\":[\"/bin/false\"]}");
        Files.writeString(dir.resolve("broken.json"), "{\"name\":");
        Files.writeString(dir.resolve("nosuch.json"), "{\"name\":\"nosuch\",\"command\":[\"/no/such/program\"]}");
        Files.writeString(dir.resolve("notes.txt"), "not a spec");

        for (int round = 0; round < 5; round++) {
            JobsDirectory.Scan scan = jobs.scan();
            assertEquals(301, scan.jobs().size(), "300 jobs and one twin");
            assertEquals(dir.resolve("a-twin.json"), scan.jobs().get("twin").file());
            assertEquals("job name twin is already used by " + dir.resolve("a-twin.json"),
                    scan.errors().get(dir.resolve("z-twin.json").toString()));
            assertTrue(scan.errors().get(dir.resolve("broken.json").toString()).contains("malformed JSON"), scan.errors().toString());
            assertTrue(scan.errors().get(dir.resolve("nosuch.json").toString()).contains("/no/such/program"),
                    scan.errors().toString());
            assertEquals(3, scan.errors().size(), "notes.txt is not a spec: " + scan.errors());
        }
    }

    @Test
    void aMissingDirectoryHasNoJobs() {
        JobsDirectory.Scan scan = jobs(dir.resolve("absent")).scan();
        assertTrue(scan.complete(), "a missing directory holds no jobs: that is complete");
        assertEquals(0, scan.jobs().size());
        assertEquals(0, scan.errors().size());
    }
}
