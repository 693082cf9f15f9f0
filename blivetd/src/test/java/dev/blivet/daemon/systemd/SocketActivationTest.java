package dev.blivet.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.Client;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * systemd's socket activation with a stand-in: Debian's {@code systemd-socket-activate} binds and
 * listens, and on the first connection execs {@code bin/blivetd} with the socket at fd 3,
 * LISTEN_FDS=1 and LISTEN_PID (as blivetd.socket + blivetd.service do); a datagram NOTIFY_SOCKET
 * records READY=1. The keeper passes the socket on to each JVM. Clients that connect while the
 * JVM restarts after a kill -9 wait in the backlog and are answered by the next JVM; READY=1 comes
 * only once the socket answers.
 */
class SocketActivationTest {
    private static final Duration LONG = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    /**
     * The keeper running blivetd's JVM, as bin/blivetd runs them, but from the test class path:
     * the tests run before the build packages the jar bin/blivetd needs.
     */
    private static List<String> blivetd() {
        return List.of(System.getProperty("blivet.keeper"), "--",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.blivet.daemon.Main");
    }

    private static CompletableFuture<Integer> ping(Path socket) {
        return CompletableFuture.supplyAsync(() -> {
            try (Client client = new Client(socket)) {
                return client.ok("ping", null).get("pid").asInt();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    @Test
    void clientsWaitInTheBacklogWhileTheJvmRestartsAndReadyFollowsService() throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));
        Path socket = run.resolve("blivetd.sock");
        Path log = dir.resolve("blivetd.log");
        Files.createDirectories(dir.resolve("jobs"));
        try (NotifyStandIn systemd = new NotifyStandIn(dir.resolve("notify").toString(), socket)) {
            List<String> command = new ArrayList<>(List.of("/usr/bin/systemd-socket-activate", "-l", socket.toString(),
                    "-E", "NOTIFY_SOCKET=" + systemd.env()));
            command.addAll(blivetd());
            command.addAll(List.of("--socket", socket.toString(), "--jobs-dir", dir.resolve("jobs").toString(),
                    "--state-dir", dir.resolve("state").toString()));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            Process activator = builder.start();
            try {
                Await.until(LONG, () -> Files.exists(socket) || !activator.isAlive(), "the stand-in to listen");
                // The first connection starts blivetd (socket-activate execs it: same pid, now the keeper).
                int jvm = ping(socket).get(LONG.toSeconds(), TimeUnit.SECONDS);
                int keeper = (int) activator.pid();
                assertEquals(keeper, (int) ProcessHandle.of(jvm).orElseThrow().parent().orElseThrow().pid(),
                        "the keeper, in the activator's place, is the JVM's parent");
                int ready = systemd.await(0, m -> m.has("READY=1"), "READY=1");
                assertTrue(systemd.messages().get(ready).answered(), "READY=1 came after the socket answered: "
                        + Files.readString(log));

                int before = systemd.messages().size();
                ProcessHandle old = ProcessHandle.of(jvm).orElseThrow();
                old.destroyForcibly();
                Await.until(LONG, () -> !old.isAlive(), "the killed JVM to be gone");
                // Connected while no JVM runs: the keeper's socket holds them in its backlog.
                List<CompletableFuture<Integer>> waiting = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    waiting.add(ping(socket));
                }
                for (CompletableFuture<Integer> answer : waiting) {
                    int next = answer.get(LONG.toSeconds(), TimeUnit.SECONDS);
                    assertNotEquals(jvm, next, "answered by the next JVM");
                    assertEquals(keeper, (int) ProcessHandle.of(next).orElseThrow().parent().orElseThrow().pid());
                }
                int readyAgain = systemd.await(before, m -> m.has("READY=1"), "READY=1 from the next JVM");
                assertTrue(systemd.messages().get(readyAgain).answered(), "the next JVM's READY=1 after it serves");
                assertTrue(activator.isAlive(), "the keeper lives on");
            } finally {
                activator.destroy(); // SIGTERM to the keeper: a clean stop
                if (!activator.waitFor(60, TimeUnit.SECONDS)) {
                    activator.destroyForcibly();
                }
            }
            assertEquals(0, activator.exitValue(), Files.readString(log));
        }
    }
}
