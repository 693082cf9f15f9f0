package dev.blivet.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** blivetctl reexec against a blivetd under its keeper, and against one without. */
class ReexecCommandTest {
    @Test
    void returnsOnceTheNewJvmAnswersAndPrintsItsPid(@TempDir Path dir) throws Exception {
        try (BlivetdProcess daemon = BlivetdProcess.start(dir, List.of(System.getProperty("blivet.keeper"), "--"),
                System.getProperty("java.class.path"))) {
            int old;
            try (Client client = daemon.client()) {
                old = client.ok("ping", null).get("pid").asInt();
            }
            Cli.Result result = Cli.run("--socket", daemon.socket().toString(), "--json", "reexec");
            assertEquals(0, result.code(), result::toString);
            int next = result.json().get("pid").asInt();
            assertNotEquals(old, next, result.toString());
            assertEquals(old, result.json().get("previous_pid").asInt(), result.toString());
            try (Client client = daemon.client()) {
                assertEquals(next, client.ok("ping", null).get("pid").asInt(), "the new JVM answers");
            }
            Cli.Result text = Cli.run("--socket", daemon.socket().toString(), "reexec");
            assertEquals(0, text.code(), text::toString);
            assertTrue(text.out().contains("was pid " + next + ")"), text.toString());
        }
    }

    @Test
    void isRefusedWithoutTheKeeper(@TempDir Path dir) throws Exception {
        try (BlivetdProcess daemon = BlivetdProcess.start(Files.createDirectories(dir.resolve("plain")))) {
            Cli.Result result = Cli.run("--socket", daemon.socket().toString(), "reexec");
            assertNotEquals(0, result.code(), result::toString);
            assertTrue(result.err().contains("blivetd runs without its keeper (started as java ... directly?): use bin/blivetd"),
                    result.toString());
            assertTrue(daemon.process().isAlive());
        }
    }
}
