package dev.blivet.daemon.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import dev.blivet.daemon.testing.Proc;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx in its default mode (it daemonizes itself and writes its own pidfile) as a job with
 * "readiness": "forking": blivet tracks its master, lists its workers, and stops all of them.
 * CI installs nginx (.ci/run), so there a missing nginx fails the test; elsewhere it needs one.
 */
class NginxForkingTest {
    private static final Path NGINX = Path.of("/usr/sbin/nginx");
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int WORKERS = 2;

    @TempDir
    Path tmp;
    BlivetdProcess daemon;
    Client client;

    @BeforeEach
    void startDaemon() throws IOException {
        if (System.getenv("CI") != null) {
            assertTrue(Files.isExecutable(NGINX), "CI installs nginx (.ci/run): " + NGINX + " is missing");
        }
        assumeTrue(Files.isExecutable(NGINX), "nginx is not installed");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        daemon = BlivetdProcess.start(tmp);
        client = daemon.client();
    }

    @AfterEach
    void stopDaemon() throws IOException {
        if (client != null) {
            client.close();
            daemon.close();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    private static String get(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            try (InputStream in = socket.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            }
        }
    }

    private static boolean refused(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void nginxInItsDefaultModeIsTrackedListedAndStopped() throws Exception {
        int port = freePort();
        Path pidfile = tmp.resolve("nginx.pid");
        Path conf = Files.writeString(tmp.resolve("nginx.conf"), String.join("\n",
                "pid " + pidfile + ";",
                "error_log " + tmp.resolve("error.log") + ";",
                "worker_processes " + WORKERS + ";",
                "events { worker_connections 64; }",
                "http {",
                "  access_log off;",
                "  client_body_temp_path " + tmp.resolve("body") + ";",
                "  proxy_temp_path " + tmp.resolve("proxy") + ";",
                "  fastcgi_temp_path " + tmp.resolve("fastcgi") + ";",
                "  uwsgi_temp_path " + tmp.resolve("uwsgi") + ";",
                "  scgi_temp_path " + tmp.resolve("scgi") + ";",
                "  server { listen 127.0.0.1:" + port + "; location / { return 200 \"hello from nginx\\n\"; } }",
                "}", ""));
        JsonNode started = client.ok("start", "\"spec\":{\"name\":\"nginx\",\"readiness\":\"forking\",\"pidfile\":\""
                + pidfile + "\",\"stop_signal\":\"QUIT\",\"stop_timeout\":20,\"command\":[\"" + NGINX + "\",\"-c\",\""
                + conf + "\",\"-p\",\"" + tmp + "/\",\"-e\",\"" + tmp.resolve("error.log") + "\"]}");
        int master = started.get("pid").asInt();
        assertEquals(Integer.parseInt(Files.readString(pidfile).strip()), master, "the master nginx wrote: " + started);
        assertEquals(daemon.pid(), new Proc(master).ppid(), "the master is blivetd's child");
        assertTrue(get(port).contains("hello from nginx"), "nginx serves");

        // A worker shows the master's title until it has set its own.
        Await.until(WAIT, () -> client.ok("status", "\"name\":\"nginx\"").path("processes").findValuesAsText("command")
                .stream().filter(c -> c.startsWith("nginx: worker process")).count() == WORKERS, "the workers");
        JsonNode status = client.ok("status", "\"name\":\"nginx\"");
        assertEquals(1 + WORKERS, status.get("process_count").asInt(), status.toString());
        List<Integer> pids = new ArrayList<>();
        List<String> commands = new ArrayList<>();
        status.get("processes").forEach(p -> {
            pids.add(p.get("pid").asInt());
            commands.add(p.get("command").asText());
        });
        assertEquals(master, pids.get(0), status.toString());
        assertTrue(commands.get(0).startsWith("nginx: master process"), status.toString());
        assertEquals(WORKERS, commands.stream().filter(c -> c.startsWith("nginx: worker process")).count(),
                status.toString());

        // QUIT: nginx's graceful shutdown; it exits 0 and removes its own pidfile.
        JsonNode stopped = client.ok("stop", "\"name\":\"nginx\"");
        assertEquals("stopped", stopped.get("state").asText(), stopped.toString());
        assertEquals(0, stopped.get("exit_code").asInt(), stopped.toString());
        for (int pid : pids) {
            Await.until(WAIT, () -> !new Proc(pid).exists(), "nginx process " + pid + " is gone");
        }
        assertTrue(refused(port), "the port is free again");
    }
}
