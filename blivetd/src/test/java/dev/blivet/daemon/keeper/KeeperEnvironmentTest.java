package dev.blivet.daemon.keeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What blivet-keeper gives the program it starts, seen by a shell standing in for the JVM. */
class KeeperEnvironmentTest {
    private static final String KEEPER = System.getProperty("blivet.keeper");

    private record Run(int code, String out) {
    }

    private static Run keeper(Map<String, String> env, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(KEEPER));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        return new Run(process.exitValue(), out);
    }

    @Test
    void theChildGetsTheLinkItsOwnWatchdogPidAndNoSocketVariablesMeantForOthers() throws Exception {
        // LISTEN_* for another pid: not the keeper's, so it holds no socket and passes none on.
        Run run = keeper(Map.of("WATCHDOG_USEC", "1000000", "WATCHDOG_PID", "1", "LISTEN_FDS", "1", "LISTEN_PID", "1"),
                "--", "/bin/sh", "-c", "test -S /dev/fd/4 && echo \"got $$ [$WATCHDOG_PID] [$LISTEN_FDS] [$LISTEN_PID]"
                        + " [$BLIVET_KEEPER_FD]\"; exit 3");
        String line = run.out().lines().filter(l -> l.startsWith("got ")).findFirst()
                .orElseThrow(() -> new AssertionError(run.toString()));
        String pid = line.split(" ")[1];
        assertEquals("got " + pid + " [" + pid + "] [] [] [4]", line, run.toString());
        // It never registered: a start-up failure, its status is the keeper's, and nothing restarts.
        assertEquals(3, run.code(), run.toString());
        assertEquals(1, run.out().split("started the JVM", -1).length - 1, run.toString());
    }

    @Test
    void aChildKilledBeforeServingEndsTheKeeperWith128PlusTheSignal() throws Exception {
        Run run = keeper(Map.of(), "--", "/bin/sh", "-c", "kill -KILL $$");
        assertEquals(128 + 9, run.code(), run.toString());
    }

    @Test
    void usageErrors() throws Exception {
        assertEquals(64, keeper(Map.of(), "/bin/true").code());
        assertEquals(64, keeper(Map.of(), "--").code());
        assertEquals(64, keeper(Map.of(), "--resume", "jvm=x", "--", "/bin/true").code());
    }
}
