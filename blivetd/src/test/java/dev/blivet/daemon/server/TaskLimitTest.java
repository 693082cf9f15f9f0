package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.protocol.Protocol;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.Proc;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * blivetd at the task limit: a client thread that cannot be created refuses that client, and
 * blivetd lives on. A non-root blivetd runs under a uid no other process has, so that its
 * RLIMIT_NPROC (lowered with prlimit once it serves) counts only its own threads.
 */
class TaskLimitTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Connections tried at the limit: far more than the few threads the limit leaves free. */
    private static final int TRIES = 40;

    @TempDir
    Path tmp;

    @Test
    void aClientThreadThatCannotBeCreatedRefusesOnlyThatClient() throws Exception {
        assumeTrue(new Proc(Proc.self()).status("Uid").startsWith("0\t"), "runs as root: starts blivetd as another uid");
        int uid = unusedUid();
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path home = Files.createDirectories(tmp.resolve("home"));
        Files.setAttribute(home, "unix:uid", uid);
        Files.setAttribute(home, "unix:gid", uid);
        Path socket = home.resolve("run/blivetd.sock");
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(List.of(Files.readString(Path.of(System.getProperty("blivet.jvmFlags"))).trim().split("\\s+")));
        command.addAll(List.of("-Dblivet.spawnHelper=" + System.getProperty("blivet.spawnHelper"),
                "-cp", readableClasspath(), "dev.blivet.daemon.Main", "--socket", socket.toString(),
                "--jobs-dir", home.resolve("jobs").toString(), "--state-dir", home.resolve("state").toString()));
        Path log = tmp.resolve("blivetd.log");
        Process daemon = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        List<Client> held = new ArrayList<>();
        try {
            Await.until(WAIT, () -> pings(socket) || !daemon.isAlive(), "blivetd to listen");
            assertTrue(daemon.isAlive(), () -> read(log));
            Proc proc = new Proc((int) daemon.pid());
            int threads = Integer.parseInt(proc.status("Threads"));
            int fds = proc.fds().size();
            limitTasks(daemon.pid(), uid, Integer.toString(threads + 3));

            JsonNode refused = null;
            for (int i = 0; i < TRIES && refused == null; i++) {
                Client client = new Client(socket);
                held.add(client);
                try {
                    client.send("{\"id\":1,\"op\":\"ping\"}\n");
                } catch (UncheckedIOException e) {
                    // refused and closed before the request went out: the refusal is there to read
                }
                JsonNode reply = client.read(); // a refusal has no id to echo
                if (!reply.path("ok").asBoolean()) {
                    refused = reply;
                }
            }
            assertTrue(refused != null, "a client past the task limit is refused\n" + read(log));
            assertEquals("too_many_clients", refused.path("error").path("code").asText(), refused.toString());
            assertTrue(refused.path("error").path("message").asText().contains("cannot take another client"),
                    refused.toString());

            // a connection that ends frees its thread for the next client; the ones held are still served
            held.remove(held.size() - 1).close();
            held.remove(held.size() - 1).close();
            Await.until(WAIT, () -> pings(socket), "a ping once a client thread is free again");
            for (Client client : held) {
                assertEquals(Protocol.VERSION, client.ok("ping", null).get("protocol").asInt());
            }
            assertTrue(daemon.isAlive(), () -> read(log));
            assertFalse(read(log).contains("fatal"), () -> read(log));

            limitTasks(daemon.pid(), uid, hardTaskLimit(proc));
            for (Client client : held) {
                client.close();
            }
            held.clear();
            Await.until(WAIT, () -> proc.fds().size() <= fds + 2, "blivetd's fds back to about " + fds);
            Await.until(WAIT, () -> Integer.parseInt(proc.status("Threads")) <= threads + 2,
                    "blivetd's threads back to about " + threads);
        } finally {
            for (Client client : held) {
                client.close();
            }
            if (daemon.isAlive()) {
                // a JVM at its task limit has no thread left to handle SIGTERM
                limitTasks(daemon.pid(), uid, hardTaskLimit(new Proc((int) daemon.pid())));
            }
            daemon.destroy();
            if (!daemon.waitFor(60, TimeUnit.SECONDS)) {
                daemon.destroyForcibly();
            }
        }
    }

    /** "Max processes 96362 96362 processes": the hard limit, where the soft one goes back to. */
    private static String hardTaskLimit(Proc proc) {
        return proc.limit("Max processes").split(" ")[3];
    }

    private static boolean pings(Path socket) {
        try (Client client = new Client(socket)) {
            JsonNode reply = client.raw("{\"id\":1,\"op\":\"ping\"}");
            return reply != null && reply.path("ok").asBoolean();
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
    }

    /**
     * Sets blivetd's soft RLIMIT_NPROC. As blivetd's own uid: root here may lack CAP_SYS_RESOURCE
     * (containers drop it), and a process may always move its own soft limit under the hard one.
     */
    private static void limitTasks(long pid, int uid, String limit) throws Exception {
        Process prlimit = new ProcessBuilder("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                "prlimit", "--pid", Long.toString(pid), "--nproc=" + limit + ":").redirectErrorStream(true).start();
        String output = new String(prlimit.getInputStream().readAllBytes());
        assertTrue(prlimit.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, prlimit.exitValue(), output);
    }

    /** A uid without a passwd entry and without a process, so RLIMIT_NPROC counts only blivetd. */
    private static int unusedUid() throws IOException {
        Set<String> used;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            used = procs.filter(p -> p.getFileName().toString().matches("\\d+")).map(p -> {
                try {
                    return Files.readAllLines(p.resolve("status")).stream().filter(l -> l.startsWith("Uid:"))
                            .findFirst().orElse("").split("\\s+")[1];
                } catch (IOException | ArrayIndexOutOfBoundsException e) {
                    return "";
                }
            }).collect(Collectors.toSet());
        }
        String passwd = Files.readString(Path.of("/etc/passwd"));
        for (int uid = 61000 + (int) (ProcessHandle.current().pid() % 500); uid < 62000; uid++) {
            if (!used.contains(Integer.toString(uid)) && !passwd.contains(":" + uid + ":")) {
                return uid;
            }
        }
        throw new AssertionError("no unused uid between 61000 and 62000");
    }

    /** The class path with its jars copied out of root's 0700 home, where another uid cannot read. */
    private String readableClasspath() throws IOException {
        Path jars = Files.createDirectories(tmp.resolve("jars"));
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (entry.endsWith(".jar")) {
                Path copy = jars.resolve(path.getFileName());
                if (!Files.exists(copy)) {
                    Files.copy(path, copy);
                    copy.toFile().setReadable(true, false);
                }
                entries.add(copy.toString());
            } else {
                entries.add(entry); // the build's own classes, in the world-readable work tree
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
