package dev.blivet.daemon.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jobs directory read in parallel gives the same answer as one read file by file would. */
class JobsDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void everyGoodFileLoadsAndEveryBadOneIsNamedTheSameWayEachTime() throws Exception {
        JobsDirectory jobs = new JobsDirectory(dir, new JobSpecResolver(new NativeAccounts(), Map.of()));
        for (int i = 0; i < 300; i++) {
            Files.writeString(dir.resolve("job%03d.json".formatted(i)),
                    "{\"name\":\"job%03d\",\"command\":[\"/bin/true\"]}".formatted(i));
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
        JobsDirectory.Scan scan = new JobsDirectory(dir.resolve("absent"), new JobSpecResolver(new NativeAccounts(), Map.of())).scan();
        assertEquals(0, scan.jobs().size());
        assertEquals(0, scan.errors().size());
    }
}
