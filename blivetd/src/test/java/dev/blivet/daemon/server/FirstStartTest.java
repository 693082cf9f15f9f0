package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the first real start after boot would do cold is done at boot, before blivetd serves
 * (docs/benchmarks.md, "Issue 13"): read from the JVM's class-loading log of a real blivetd, which
 * names each class as it is loaded or generated.
 */
class FirstStartTest {
    @TempDir
    Path dir;

    /**
     * A record's equals is bound by ObjectMethods on its first call, which generates method
     * handle code (20-30 ms, interpreted): the ledger's spec record is compared on every start,
     * so the warm-up compares one at boot. (Other method handle code the start path links, its
     * lambdas and string concatenations, comes from the class-data sharing archive that
     * bin/blivetd maps, which these tests' class path cannot use; bench/daemon/first-start.sh
     * measures the whole.)
     */
    @Test
    void theLedgersRecordIsComparedAtBootNotAtTheFirstStart() throws Exception {
        Path jobs = Files.createDirectories(dir.resolve("jobs"));
        Files.writeString(jobs.resolve("known.json"), "{\"name\":\"known\",\"command\":[\"/bin/sleep\",\"600\"],"
                + "\"autostart\":false}");
        Path classes = dir.resolve("classes.log");
        try (BlivetdProcess blivetd = BlivetdProcess.start(dir, Map.of(), List.of("-Xlog:class+load=info:file=" + classes))) {
            assertTrue(Files.readAllLines(classes).stream().anyMatch(FirstStartTest::objectMethods),
                    "a record was compared before blivetd served");
            try (Client client = blivetd.client()) {
                assertEquals("running", client.ok("start", "\"name\":\"known\"").path("state").asText());
                client.ok("stop", "\"name\":\"known\"");
            }
        }
    }

    private static boolean objectMethods(String classLoadLine) {
        return classLoadLine.contains(" java.lang.runtime.ObjectMethods ");
    }
}
