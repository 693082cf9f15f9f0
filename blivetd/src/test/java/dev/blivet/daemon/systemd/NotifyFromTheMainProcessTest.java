package dev.blivet.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.Client;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * blivetd.service has NotifyAccess=main: systemd takes a notification only from the unit's main
 * process, which is the keeper. So every notification blivetd sends must carry the keeper's pid,
 * as the kernel stamps it (SCM_CREDENTIALS), never the JVM's: the stand-in for systemd here reads
 * the sender's credentials as systemd does. READY=1, STATUS= and, after a kill -9 of the JVM,
 * the keeper's own STATUS= and the next JVM's READY=1 all come from the keeper.
 */
class NotifyFromTheMainProcessTest {
    private static final Duration LONG = Duration.ofSeconds(90);
    /** systemd's side: prints "PID TEXT" per datagram, newlines in TEXT as '|'. */
    private static final String STAND_IN = String.join("\n",
            "import socket, struct, sys",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
            "s.bind(sys.argv[1])",
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)",
            "print('bound', flush=True)",
            "while True:",
            "    data, ancillary, flags, address = s.recvmsg(8192, socket.CMSG_SPACE(12))",
            "    pid = -1",
            "    for level, kind, value in ancillary:",
            "        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:",
            "            pid = struct.unpack('iII', value[:12])[0]",
            "    print(pid, data.decode().replace('\\n', '|'), flush=True)");

    @TempDir
    Path dir;

    private record Notification(int pid, String text) {
        boolean has(String line) {
            return List.of(text.split("\\|")).contains(line);
        }
    }

    @Test
    void everyNotificationComesFromTheKeeperEvenAcrossAJvmCrash() throws Exception {
        Path notify = dir.resolve("notify");
        Process standIn = new ProcessBuilder("/usr/bin/python3", "-c", STAND_IN, notify.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Notification> received = new ArrayList<>();
        BufferedReader lines = new BufferedReader(new InputStreamReader(standIn.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("bound", lines.readLine());
        Thread reader = new Thread(() -> {
            try {
                for (String line; (line = lines.readLine()) != null;) {
                    int space = line.indexOf(' ');
                    synchronized (received) {
                        received.add(new Notification(Integer.parseInt(line.substring(0, space)), line.substring(space + 1)));
                    }
                }
            } catch (IOException e) {
                // the stand-in is gone
            }
        }, "notify-stand-in-reader");
        reader.setDaemon(true);
        reader.start();

        Path socket = Files.createDirectories(dir.resolve("run")).resolve("blivetd.sock");
        Path log = dir.resolve("blivetd.log");
        Files.createDirectories(dir.resolve("jobs"));
        ProcessBuilder builder = new ProcessBuilder(System.getProperty("blivet.keeper"), "--",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.blivet.daemon.Main",
                "--socket", socket.toString(), "--jobs-dir", dir.resolve("jobs").toString(),
                "--state-dir", dir.resolve("state").toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("NOTIFY_SOCKET", notify.toString());
        builder.environment().put("WATCHDOG_USEC", "60000000");
        Process keeper = builder.start();
        try {
            int readyAt = awaitNotification(received, 0, n -> n.has("READY=1"), "READY=1", log);
            int jvm;
            try (Client client = new Client(socket)) {
                jvm = client.ok("ping", null).get("pid").asInt();
                client.ok("start", "\"spec\":{\"name\":\"sleeper\",\"command\":[\"/bin/sleep\",\"1000\"]}");
            }
            awaitNotification(received, readyAt, n -> n.text().startsWith("STATUS=") && n.text().contains("1 running"),
                    "STATUS= with the job", log);

            int before = snapshot(received).size();
            ProcessHandle.of(jvm).orElseThrow().destroyForcibly();
            int died = awaitNotification(received, before,
                    n -> n.text().startsWith("STATUS=the JVM died (signal 9)") && n.text().endsWith("the jobs keep running"),
                    "the keeper's STATUS= for the dead JVM", log);
            int readyAgain = awaitNotification(received, died, n -> n.has("READY=1"), "READY=1 from the next JVM", log);

            // A second death within a minute waits 100 ms before the next JVM: meanwhile nobody
            // but the keeper can feed systemd's watchdog, and it does so at once.
            int next;
            try (Client client = new Client(socket)) {
                next = client.ok("ping", null).get("pid").asInt();
            }
            ProcessHandle.of(next).orElseThrow().destroyForcibly();
            int waiting = awaitNotification(received, readyAgain,
                    n -> n.text().startsWith("STATUS=the JVM died (signal 9): restarting it in 100 ms"),
                    "the keeper's STATUS= for a restart that waits", log);
            awaitNotification(received, waiting + 1, n -> true, "the notification after it", log);
            assertEquals("WATCHDOG=1", snapshot(received).get(waiting + 1).text(),
                    "the keeper feeds the watchdog while no JVM runs: " + snapshot(received));
            awaitNotification(received, waiting, n -> n.has("READY=1"), "READY=1 from the third JVM", log);

            List<Notification> all = snapshot(received);
            for (Notification n : all) {
                assertEquals(keeper.pid(), n.pid(), "every notification carries the keeper's pid (NotifyAccess=main): "
                        + n + ", JVM was " + jvm + "; all: " + all);
            }
            assertTrue(all.stream().anyMatch(n -> n.text().startsWith("STATUS=") && n.text().contains("running")),
                    "the JVM's job counts reached systemd through the keeper: " + all);
        } finally {
            keeper.destroy(); // SIGTERM to the keeper: a clean stop of every job
            if (!keeper.waitFor(60, TimeUnit.SECONDS)) {
                keeper.destroyForcibly();
            }
            standIn.destroyForcibly();
        }
        assertEquals(0, keeper.exitValue(), Files.readString(log));
    }

    private static List<Notification> snapshot(List<Notification> received) {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    private static int awaitNotification(List<Notification> received, int from,
            java.util.function.Predicate<Notification> test, String what, Path log) {
        int[] found = {-1};
        try {
            Await.until(LONG, () -> {
                List<Notification> all = snapshot(received);
                for (int i = from; i < all.size(); i++) {
                    if (test.test(all.get(i))) {
                        found[0] = i;
                        return true;
                    }
                }
                return false;
            }, what);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + " (got " + snapshot(received) + "; log: " + readQuietly(log) + ")", e);
        }
        return found[0];
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
